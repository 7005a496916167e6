import type { BatchView } from '../../../client/src/index';
import { number } from '../words';

/** The bar split by outcome: succeeded, failed and cancelled each its own share; never a green 100 % for a cancelled or failed batch. */
export function ProgressBar({ batch, label }: { batch: BatchView; label: string }) {
  const share = (n: number) => `${batch.itemCount > 0 ? (100 * n) / batch.itemCount : 0}%`;
  const done = batch.processedCount + batch.cancelledCount;
  return (
    <div
      className="bar"
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={batch.percentage}
      aria-valuetext={`${batch.percentage} %: ${number(done)} of ${number(batch.itemCount)} items done`}
    >
      <span className="fill-ok" style={{ width: share(batch.succeededCount) }} />
      <span className="fill-failed" style={{ width: share(batch.failedCount) }} />
      <span className="fill-cancelled" style={{ width: share(batch.cancelledCount) }} />
    </div>
  );
}

/** "151 of 400 processed · 140 succeeded · 11 failed · 249 cancelled". */
export function Counts({ batch }: { batch: BatchView }) {
  const parts = [`${number(batch.processedCount)} of ${number(batch.itemCount)} processed`];
  parts.push(`${number(batch.succeededCount)} succeeded`);
  if (batch.failedCount > 0) parts.push(`${number(batch.failedCount)} failed`);
  if (batch.cancelledCount > 0) parts.push(`${number(batch.cancelledCount)} cancelled`);
  return <span className="counts">{parts.join(' · ')}</span>;
}
