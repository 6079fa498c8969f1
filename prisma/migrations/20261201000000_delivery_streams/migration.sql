-- Delivery streams (docs/DELIVERY.md): every notification belongs to one stream (user:{id},
-- tenant:{id} or global) and takes that stream's next dense offset in the transaction that
-- inserts it. The stream row is the only thing writers to one stream serialise on.

-- CreateTable
CREATE TABLE "notification_streams" (
    "stream" TEXT NOT NULL,
    "epoch" TEXT NOT NULL,
    "last_offset" BIGINT NOT NULL,

    CONSTRAINT "notification_streams_pkey" PRIMARY KEY ("stream")
);

-- CreateTable
CREATE TABLE "notification_idempotency_keys" (
    "publisher" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "request_hash" TEXT NOT NULL,
    "notification_id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "notification_idempotency_keys_pkey" PRIMARY KEY ("publisher","key")
);

-- AlterTable: backfill the stream of existing rows, and dense offsets in seq order.
ALTER TABLE "notifications" ADD COLUMN "stream" TEXT, ADD COLUMN "stream_offset" BIGINT;

UPDATE "notifications" SET "stream" = CASE "scope"
    WHEN 'USER' THEN 'user:' || "user_id"::text
    WHEN 'TENANT' THEN 'tenant:' || "tenant_id"::text
    ELSE 'global' END;

UPDATE "notifications" AS n SET "stream_offset" = o.off
  FROM (SELECT "id", row_number() OVER (PARTITION BY "stream" ORDER BY "seq") AS off FROM "notifications") AS o
 WHERE n."id" = o."id";

-- A fresh epoch per stream: 12 characters of [0-9a-f], within the epoch alphabet.
INSERT INTO "notification_streams" ("stream", "epoch", "last_offset")
SELECT "stream", substr(md5(random()::text || "stream"), 1, 12), max("stream_offset")
  FROM "notifications" GROUP BY "stream";

ALTER TABLE "notifications" ALTER COLUMN "stream" SET NOT NULL, ALTER COLUMN "stream_offset" SET NOT NULL;

-- CreateIndex: also the catch-up index (stream, offset > n).
CREATE UNIQUE INDEX "notifications_stream_stream_offset_key" ON "notifications"("stream", "stream_offset");

-- CreateIndex
CREATE INDEX "notification_idempotency_keys_created_at_idx" ON "notification_idempotency_keys"("created_at");

-- Rollback compatibility: the previous version inserts without a stream. Such a row gets its
-- stream and the stream's next offset here, under the same row lock the new writer takes, so a
-- rollback keeps working on this schema and offsets stay dense. The new writer always sets the
-- stream, so the WHEN clause keeps this function off its path.
CREATE FUNCTION "notifications_assign_stream"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW."stream" := CASE NEW."scope"
        WHEN 'USER' THEN 'user:' || NEW."user_id"::text
        WHEN 'TENANT' THEN 'tenant:' || NEW."tenant_id"::text
        ELSE 'global' END;
    INSERT INTO "notification_streams" ("stream", "epoch", "last_offset")
    VALUES (NEW."stream", substr(md5(random()::text || NEW."stream"), 1, 12), 1)
    ON CONFLICT ("stream") DO UPDATE SET "last_offset" = "notification_streams"."last_offset" + 1
    RETURNING "last_offset" INTO NEW."stream_offset";
    RETURN NEW;
END;
$$;

CREATE TRIGGER "notifications_assign_stream" BEFORE INSERT ON "notifications"
    FOR EACH ROW WHEN (NEW."stream" IS NULL) EXECUTE FUNCTION "notifications_assign_stream"();
