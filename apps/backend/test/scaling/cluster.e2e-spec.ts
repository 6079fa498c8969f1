import { OwnRedisCluster, uniquePrefix } from '../support/redis-server';
import { crossInstanceCases } from './cross-instance';

describe('two instances sharing a 3-node Redis Cluster (sharded pub/sub)', () => {
  let cluster: OwnRedisCluster;
  const prefix = uniquePrefix('cluster');

  beforeAll(async () => {
    cluster = await OwnRedisCluster.start();
  }, 30_000);
  afterAll(() => cluster?.destroy());

  crossInstanceCases(() => ({ REDIS_CLUSTER_NODES: cluster.nodes, REDIS_KEY_PREFIX: prefix }));
});
