import { round } from './stats.js';
import type { TargetResult } from './alternating-runs.js';

export interface ConfigResult {
  concurrency: number;
  delayMs: number;
  results: TargetResult[];
}

/** Numbers of one target in one configuration, and its ratios to the byte proxy's. */
export interface RelayRow {
  concurrency: number;
  delayMs: number;
  via: string;
  streams: number;
  errors: number;
  tokens: number;
  ttftP50: number;
  ttftP99: number;
  addedTtftP50: number;
  addedTtftP99: number;
  gapP50: number;
  gapP99: number;
  cpuMsPer1kTokens: number | null;
  /** The Postgres server's CPU for the relay's database, per 1k tokens (null without Postgres). */
  dbCpuMsPer1kTokens: number | null;
  /** The relay's event-loop delay (ms) when it is a Parley: median p50, worst p99 and worst stall over the rounds. */
  eventLoop: { p50: number; p99: number; max: number } | null;
  vsProxy: {
    /** TTFT minus the proxy's, the "over the proxy's" (ms) */
    ttftOverProxyP50: number;
    ttftOverProxyP99: number;
    addedTtftP50: number | null;
    addedTtftP99: number | null;
    gapP50: number | null;
    gapP99: number | null;
    cpu: number | null;
    /** (relay + database server CPU) / proxy CPU */
    cpuWithDb: number | null;
  } | null;
}

/**
 * Added TTFT is the target's percentile minus direct's; ratios divide by
 * the byte proxy's figure (null when that is about 0 or unknown).
 */
export function relayRows(config: ConfigResult, directName: string, proxyName: string): RelayRow[] {
  const summaries = config.results.map((result) => {
    const { meter, cpuMs, dbCpuMs } = result;
    return {
      via: result.target,
      meter,
      ttft: meter.ttft(),
      gap: meter.gap(),
      cpuPer1k: cpuMs === undefined || meter.tokens === 0 ? null : (cpuMs * 1000) / meter.tokens,
      dbCpuPer1k: dbCpuMs === undefined || meter.tokens === 0 ? null : (dbCpuMs * 1000) / meter.tokens,
      eventLoop: result.eventLoop,
    };
  });
  const direct = summaries.find((summary) => summary.via === directName);
  const proxy = summaries.find((summary) => summary.via === proxyName);
  const added = (summary: (typeof summaries)[number], key: 'p50' | 'p99') => summary.ttft[key] - (direct?.ttft[key] ?? Number.NaN);
  // Below 0.05 ms a latency is timer noise, and a ratio to it means nothing.
  const ratio = (value: number | null, base: number | null | undefined) =>
    value === null || base === null || base === undefined || !(base >= 0.05) ? null : round(value / base, 2);
  return summaries.map((summary) => ({
    concurrency: config.concurrency,
    delayMs: config.delayMs,
    via: summary.via,
    streams: summary.meter.streams,
    errors: summary.meter.errors,
    tokens: summary.meter.tokens,
    ttftP50: round(summary.ttft.p50),
    ttftP99: round(summary.ttft.p99),
    addedTtftP50: round(added(summary, 'p50')),
    addedTtftP99: round(added(summary, 'p99')),
    gapP50: round(summary.gap.p50),
    gapP99: round(summary.gap.p99),
    cpuMsPer1kTokens: summary.cpuPer1k === null ? null : round(summary.cpuPer1k, 1),
    dbCpuMsPer1kTokens: summary.dbCpuPer1k === null ? null : round(summary.dbCpuPer1k, 1),
    eventLoop:
      summary.eventLoop === null
        ? null
        : { p50: round(summary.eventLoop.p50, 1), p99: round(summary.eventLoop.p99, 1), max: round(summary.eventLoop.max, 1) },
    vsProxy:
      proxy === undefined || summary === proxy || summary === direct
        ? null
        : {
            ttftOverProxyP50: round(summary.ttft.p50 - proxy.ttft.p50),
            ttftOverProxyP99: round(summary.ttft.p99 - proxy.ttft.p99),
            addedTtftP50: ratio(added(summary, 'p50'), added(proxy, 'p50')),
            addedTtftP99: ratio(added(summary, 'p99'), added(proxy, 'p99')),
            gapP50: ratio(summary.gap.p50, proxy.gap.p50),
            gapP99: ratio(summary.gap.p99, proxy.gap.p99),
            cpu: ratio(summary.cpuPer1k, proxy.cpuPer1k),
            cpuWithDb: summary.dbCpuPer1k === null ? null : ratio((summary.cpuPer1k ?? 0) + summary.dbCpuPer1k, proxy.cpuPer1k),
          },
  }));
}

/** The rows as table cells for printTable. */
export function relayTableRows(rows: RelayRow[]): Record<string, string | number>[] {
  const withDb = rows.some((row) => row.dbCpuMsPer1kTokens !== null);
  const cell = (value: number | null | undefined) => (value === null || value === undefined || Number.isNaN(value) ? '-' : value);
  return rows.map((row) => ({
    clients: row.concurrency,
    'delay ms': row.delayMs,
    via: row.via,
    streams: row.streams,
    errors: row.errors,
    'ttft p50': row.ttftP50,
    'ttft p99': row.ttftP99,
    '+ttft p50': row.via.startsWith('direct') ? '-' : row.addedTtftP50,
    '+ttft p99': row.via.startsWith('direct') ? '-' : row.addedTtftP99,
    'gap p50': row.gapP50,
    'gap p99': row.gapP99,
    'cpu ms/1k tok': cell(row.cpuMsPer1kTokens),
    'ttft-proxy p50': cell(row.vsProxy?.ttftOverProxyP50),
    'ttft-proxy p99': cell(row.vsProxy?.ttftOverProxyP99),
    'x proxy +ttft p50': cell(row.vsProxy?.addedTtftP50),
    'x proxy +ttft p99': cell(row.vsProxy?.addedTtftP99),
    'x proxy gap p50': cell(row.vsProxy?.gapP50),
    'x proxy gap p99': cell(row.vsProxy?.gapP99),
    'x proxy cpu': cell(row.vsProxy?.cpu),
    'loop p50': cell(row.eventLoop?.p50),
    'loop p99': cell(row.eventLoop?.p99),
    'loop max': cell(row.eventLoop?.max),
    ...(withDb && { 'db cpu ms/1k tok': cell(row.dbCpuMsPer1kTokens), 'x proxy cpu+db': cell(row.vsProxy?.cpuWithDb) }),
  }));
}
