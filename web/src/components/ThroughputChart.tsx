import type { ThroughputView } from '../../../client/src/index';
import { number } from '../words';

const W = 640;
const H = 200;
const PAD = { left: 52, right: 12, top: 12, bottom: 34 };

/** Items per second over the batch's run, from stored history: an SVG with a time axis and a rate axis. */
export function ThroughputChart({ history }: { history: ThroughputView }) {
  const seconds = history.bucketMs / 1000;
  const rates = history.buckets.map((b) => (b.succeeded + b.failed) / seconds);
  const failedRates = history.buckets.map((b) => b.failed / seconds);
  const max = niceMax(Math.max(1, ...rates));
  const n = Math.max(1, history.buckets.length);
  const x = (i: number) => PAD.left + ((W - PAD.left - PAD.right) * i) / n;
  const y = (v: number) => H - PAD.bottom - ((H - PAD.top - PAD.bottom) * Math.max(0, v)) / max;
  const barW = Math.max(1, (W - PAD.left - PAD.right) / n - 1);
  const span = (Date.parse(history.to) - Date.parse(history.from)) / 1000;
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  const total = history.buckets.reduce((s, b) => s + b.succeeded + b.failed, 0);
  return (
    <figure className="chart">
      <svg
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label={`Throughput: ${number(total)} items over ${durationWords(span)}, at most ${number(Math.round(Math.max(...rates)))} items per second`}
      >
        {ticks.map((t) => (
          <g key={t}>
            <line className="grid" x1={PAD.left} x2={W - PAD.right} y1={y(max * t)} y2={y(max * t)} />
            <text className="axis" x={PAD.left - 6} y={y(max * t) + 4} textAnchor="end">
              {number(Math.round(max * t))}
            </text>
          </g>
        ))}
        {rates.map((r, i) => (
          <g key={i}>
            <rect className="ok" x={x(i)} y={y(r)} width={barW} height={Math.max(0, y(0) - y(r))} />
            {failedRates[i] > 0 && (
              <rect
                className="failed"
                x={x(i)}
                y={y(failedRates[i])}
                width={barW}
                height={Math.max(0, y(0) - y(failedRates[i]))}
              />
            )}
          </g>
        ))}
        <line className="axis-line" x1={PAD.left} x2={W - PAD.right} y1={y(0)} y2={y(0)} />
        <line className="axis-line" x1={PAD.left} x2={PAD.left} y1={PAD.top} y2={y(0)} />
        {ticks.map((t) => (
          <text
            key={t}
            className="axis"
            x={PAD.left + (W - PAD.left - PAD.right) * t}
            y={H - PAD.bottom + 16}
            textAnchor={t === 0 ? 'start' : t === 1 ? 'end' : 'middle'}
          >
            {durationWords(span * t)}
          </text>
        ))}
        <text className="axis" x={(W + PAD.left) / 2} y={H - 4} textAnchor="middle">
          time since start
        </text>
        <text
          className="axis"
          x={12}
          y={(H - PAD.bottom) / 2}
          textAnchor="middle"
          transform={`rotate(-90 12 ${(H - PAD.bottom) / 2})`}
        >
          items/s
        </text>
      </svg>
      <figcaption>Items settled per second ({durationWords(seconds)} per bar); failures in red.</figcaption>
    </figure>
  );
}

function niceMax(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

export function durationWords(s: number): string {
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 10) return `${Number(s.toFixed(1))} s`;
  if (s < 60) return `${Math.round(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`.replace(/ 0 s$/, '');
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}
