import type { ProviderReport } from '../../api/admin-api';
import { count, milliseconds } from './admin-format';

/** Breaker states (src/providers) as a badge: closed is healthy, half open is probing, open or isolated refuses. */
const breakerLooks: Record<string, { text: string; tone: string }> = {
  closed: { text: 'Closed', tone: 'ok' },
  half_open: { text: 'Half open', tone: 'warn' },
  open: { text: 'Open', tone: 'bad' },
  isolated: { text: 'Isolated', tone: 'bad' },
  none: { text: 'No breaker', tone: '' },
};

function BreakerBadge({ report }: { report: ProviderReport }) {
  if (report.breaker === null) return <span class="badge">Not on this instance</span>;
  const look = breakerLooks[report.breaker] ?? { text: report.breaker, tone: 'warn' };
  return <span class={`badge ${look.tone}`}>{look.text}</span>;
}

function failuresText(failures: Record<string, number>): string {
  const entries = Object.entries(failures).filter(([, times]) => times > 0);
  return entries.length === 0 ? 'none' : entries.map(([code, times]) => `${code}: ${count(times)}`).join(', ');
}

/** Each provider's breaker on this instance, its failures since start, and the last hour's replies from the store. */
export function AdminProvidersTable({ providers }: { providers: ProviderReport[] }) {
  if (providers.length === 0) return <p class="muted">No provider is configured and none replied in the last hour.</p>;
  return (
    <div class="table-scroll" role="region" aria-labelledby="admin-providers-caption" tabIndex={0}>
      <table class="admin-table" id="admin-providers">
        <caption id="admin-providers-caption" class="visually-hidden">
          Provider health
        </caption>
        <thead>
          <tr>
            <th scope="col">Provider</th>
            <th scope="col">Breaker</th>
            <th scope="col">Errors since start</th>
            <th scope="col" class="number">
              Retries
            </th>
            <th scope="col" class="number">
              Turns (1 h)
            </th>
            <th scope="col" class="number">
              Failed (1 h)
            </th>
            <th scope="col" class="number">
              First token p50
            </th>
            <th scope="col" class="number">
              First token p99
            </th>
          </tr>
        </thead>
        <tbody>
          {providers.map((report) => (
            <tr key={report.provider} data-provider={report.provider}>
              <th scope="row">{report.provider}</th>
              <td data-field="breaker">
                <BreakerBadge report={report} />
              </td>
              <td data-field="failures">{failuresText(report.failures)}</td>
              <td class="number">{count(report.retries)}</td>
              <td class="number" data-field="turns">
                {count(report.lastHour.turns)}
              </td>
              <td class="number" data-field="failed">
                {count(report.lastHour.failed)}
                {report.lastHour.interrupted > 0 && ` (+${count(report.lastHour.interrupted)} interrupted)`}
              </td>
              <td class="number" data-field="ttft-p50">
                {milliseconds(report.lastHour.timeToFirstTokenP50Ms)}
              </td>
              <td class="number" data-field="ttft-p99">
                {milliseconds(report.lastHour.timeToFirstTokenP99Ms)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
