import { http } from './http';

/** Parsed Prometheus text: `name{labels}` → value. */
export async function scrape(baseUrl: string, token?: string): Promise<Map<string, number>> {
  const response = await http<string>(`${baseUrl}/metrics`, { token, origin: null });
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);
  const values = new Map<string, number>();
  for (const line of response.text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    values.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return values;
}

/** Sum of every series of a metric whose labels include all of `labels`. */
export function total(values: Map<string, number>, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const [series, value] of values) {
    const brace = series.indexOf('{');
    const seriesName = brace === -1 ? series : series.slice(0, brace);
    if (seriesName !== name) continue;
    if (Object.entries(labels).every(([key, expected]) => series.includes(`${key}="${expected}"`))) sum += value;
  }
  return sum;
}

/** Metric families the endpoint declares (`# TYPE`), with the series names each one yields. */
export async function exportedNames(baseUrl: string): Promise<Set<string>> {
  const response = await http<string>(`${baseUrl}/metrics`, { origin: null });
  const names = new Set<string>();
  for (const match of response.text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = match;
    names.add(name);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
    if (type === 'summary') for (const suffix of ['_sum', '_count']) names.add(name + suffix);
  }
  return names;
}
