/**
 * The earnings page's chart: coins of gifts received and diamonds earned per
 * day (uPlot from npm, loaded from the URL the page gives, so hashed static
 * names in production still resolve).
 */
const box = document.querySelector("[data-earnings-chart]");
const series = JSON.parse(document.getElementById("earnings-series").textContent);

function options(uPlot, width) {
  const bars = uPlot.paths.bars({ size: [0.6, 24] });
  return {
    width,
    height: 260,
    scales: { x: { time: true } },
    axes: [
      { stroke: "#a0a0ab", grid: { stroke: "#24242e" } },
      { stroke: "#a0a0ab", grid: { stroke: "#24242e" }, size: 60 },
    ],
    series: [
      {},
      { label: "Coins of gifts", stroke: "#fe2c55", fill: "rgba(254,44,85,.35)", paths: bars },
      { label: "Diamonds", stroke: "#25f4ee", width: 2 },
    ],
  };
}

async function draw() {
  const { default: uPlot } = await import(box.dataset.uplot);
  const days = series.days.map((day) => Date.parse(`${day}T12:00:00`) / 1000);
  const chart = new uPlot(options(uPlot, box.clientWidth), [days, series.coins, series.diamonds], box);
  new ResizeObserver(() => chart.setSize({ width: box.clientWidth, height: 260 })).observe(box);
}

if (box) draw();
