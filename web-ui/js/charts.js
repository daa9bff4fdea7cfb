// Chart.js (3.x, served from /vendor/chart.min.js) with the page's theme colours. Times are
// plotted on a linear axis of milliseconds (no date adapter needed).
const charts = new Set();

export function themeColor(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

export function palette() {
  return ['--chart-1', '--chart-2', '--chart-3', '--chart-4'].map(themeColor);
}

function alpha(color, a) {
  // #rrggbb -> rgba()
  const m = /^#([0-9a-f]{6})$/i.exec(color);
  if (!m) return color;
  const n = parseInt(m[1], 16);
  return `rgba(${n >> 16}, ${(n >> 8) & 255}, ${n & 255}, ${a})`;
}

function base() {
  const fg = themeColor('--fg-muted');
  const grid = themeColor('--grid');
  return { fg, grid };
}

function timeTick(span) {
  return (v) => {
    const d = new Date(v);
    return span > 2 * 86400e3 ? d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' })
      : d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: span < 600e3 ? '2-digit' : undefined });
  };
}

export function available() { return typeof window.Chart === 'function'; }

// series: [{label, points: [{x: ms, y}]}]
export function timeChart(canvas, series, { span = 3600e3, yTitle = '', area = true } = {}) {
  if (!available()) return null;
  const { fg, grid } = base();
  const colors = palette();
  const chart = new window.Chart(canvas.getContext('2d'), {
    type: 'line',
    data: {
      datasets: series.map((s, i) => ({
        label: s.label,
        data: s.points,
        borderColor: colors[i % colors.length],
        backgroundColor: alpha(colors[i % colors.length], 0.12),
        fill: area && i === 0,
        pointRadius: 0,
        borderWidth: 2,
        tension: 0.25,
      })),
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      parsing: false,
      normalized: true,
      interaction: { mode: 'index', intersect: false },
      scales: {
        x: { type: 'linear', ticks: { color: fg, maxTicksLimit: 7, callback: timeTick(span) }, grid: { color: grid } },
        y: { beginAtZero: true, ticks: { color: fg, maxTicksLimit: 6 }, grid: { color: grid },
             title: { display: Boolean(yTitle), text: yTitle, color: fg } },
      },
      plugins: {
        legend: { labels: { color: fg, boxWidth: 12, usePointStyle: true } },
        tooltip: { callbacks: { title: (items) => items.length ? new Date(items[0].parsed.x).toLocaleString() : '' } },
      },
    },
  });
  charts.add(chart);
  return chart;
}

// bars: labels + datasets [{label, data}]
export function barChart(canvas, labels, datasets, { stacked = false, horizontal = false, yTitle = '', xTitle = '' } = {}) {
  if (!available()) return null;
  const { fg, grid } = base();
  const colors = palette();
  const chart = new window.Chart(canvas.getContext('2d'), {
    type: 'bar',
    data: {
      labels,
      datasets: datasets.map((d, i) => ({
        label: d.label,
        data: d.data,
        backgroundColor: alpha(colors[i % colors.length], 0.75),
        borderColor: colors[i % colors.length],
        borderWidth: 1,
        borderRadius: 3,
      })),
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      indexAxis: horizontal ? 'y' : 'x',
      scales: {
        x: { stacked, ticks: { color: fg, autoSkip: true, maxRotation: 0 }, grid: { color: grid },
             title: { display: Boolean(xTitle), text: xTitle, color: fg } },
        y: { stacked, beginAtZero: true, ticks: { color: fg }, grid: { color: grid },
             title: { display: Boolean(yTitle), text: yTitle, color: fg } },
      },
      plugins: { legend: { display: datasets.length > 1, labels: { color: fg, boxWidth: 12 } } },
    },
  });
  charts.add(chart);
  return chart;
}

export function destroyAll() {
  for (const c of charts) { try { c.destroy(); } catch (e) { /* already destroyed */ } }
  charts.clear();
}
