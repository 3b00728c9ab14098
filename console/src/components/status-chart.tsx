import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from 'chart.js';
import { useEffect, useRef } from 'preact/hooks';
import { AUDIT_STATUSES } from '../types.ts';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

/** One colour per status, distinct also for the commonest colour blindness (no red/green pair alone). */
const COLOURS: Record<string, string> = {
  success: '#1a7f37',
  skipped: '#8c959f',
  retrying: '#bf8700',
  failed: '#b42318',
  'dead-lettered': '#6e2b8f',
};

const hourLabel = (hour: string) => new Date(`${hour}:00:00.000Z`).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });

/**
 * Operations per hour, stacked by status, for one connector. The canvas is described in words
 * for screen readers, and the same numbers are one click away as a table.
 */
export const StatusChart = ({ connectorId, series }: { connectorId: string; series: Array<{ hour: string; byStatus: Record<string, number> }> }) => {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (!canvas.current) return;
    const chart = new Chart(canvas.current, {
      type: 'bar',
      data: {
        labels: series.map((s) => hourLabel(s.hour)),
        datasets: AUDIT_STATUSES.map((status) => ({
          label: status,
          data: series.map((s) => s.byStatus[status] ?? 0),
          backgroundColor: COLOURS[status],
        })),
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
        plugins: { legend: { position: 'bottom' } },
      },
    });
    return () => chart.destroy();
  }, [series]);
  const total = series.reduce((sum, s) => sum + Object.values(s.byStatus).reduce((a, b) => a + b, 0), 0);
  return (
    <figure class="chart">
      <div class="chart-box">
        <canvas ref={canvas} role="img" aria-label={`${connectorId}: ${total} operations over ${series.length} hours, by status`} />
      </div>
      <details>
        <summary>Show as a table</summary>
        <table>
          <caption class="visually-hidden">{connectorId}: operations per hour by status</caption>
          <thead>
            <tr>
              <th scope="col">Hour</th>
              {AUDIT_STATUSES.map((status) => (
                <th scope="col" key={status}>
                  {status}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {series.map((s) => (
              <tr key={s.hour}>
                <th scope="row">{hourLabel(s.hour)}</th>
                {AUDIT_STATUSES.map((status) => (
                  <td key={status}>{s.byStatus[status] ?? 0}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
};
