import { useEffect, useState } from 'preact/hooks';
import { readDailyUsage } from '../api/other-apis';
import { errorText } from '../api/http';
import type { DailyUsage } from '../api/types';
import { UsageChart } from './UsageChart';

const number = (value: number | null) => (value === null ? 'no limit' : value.toLocaleString('en'));

/** The person's tokens per day (GET /api/v1/usage/daily) and what is left of their budgets. */
export function UsageView() {
  const [usage, setUsage] = useState<DailyUsage | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  useEffect(() => {
    readDailyUsage(30)
      .then(setUsage)
      .catch((failure: unknown) => setError(errorText(failure)));
  }, []);
  return (
    <section class="usage" aria-labelledby="usage-title">
      <h1 id="usage-title">Usage</h1>
      {error && <p role="alert">{error}</p>}
      {usage && (
        <>
          <UsageChart days={usage.days} />
          <dl class="usage-numbers">
            <dt>Today</dt>
            <dd id="usage-today">{number(usage.todayTokens)} tokens</dd>
            <dt>All time</dt>
            <dd>{number(usage.lifetimeTokens)} tokens</dd>
            <dt>Left today</dt>
            <dd id="usage-today-left">{number(usage.budgets.todayLeft)}</dd>
            <dt>Left in total</dt>
            <dd id="usage-lifetime-left">{number(usage.budgets.lifetimeLeft)}</dd>
          </dl>
        </>
      )}
      <a href="#/">Back to the chat</a>
    </section>
  );
}
