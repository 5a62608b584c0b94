/**
 * The chart: grouped bars of req/s relative to bare Express, one group per workload, one
 * bar per variant, one panel per node binary. Plain SVG written by hand (no chart library).
 */
import { nodeLabel, type ReportMeta, type Summary } from "./report.js";

const palette = ["#2563eb", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#0ea5e9", "#84cc16", "#ec4899", "#64748b"];

const escapeXml = (text: string) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

export function renderChart(options: {
  meta: ReportMeta;
  summaries: Summary[];
  workloads: string[];
  variants: string[];
  baseline: string;
}): string {
  const { meta, summaries, workloads, baseline } = options;
  const variants = options.variants.filter((variant) => variant !== baseline);
  const barWidth = 16;
  const barGap = 3;
  const groupGap = 28;
  const left = 56;
  const right = 16;
  const groupWidth = Math.max(1, variants.length) * (barWidth + barGap) - barGap;
  const plotWidth = workloads.length * groupWidth + (workloads.length - 1) * groupGap + 2 * 12;
  const width = Math.max(left + plotWidth + right, 560);
  const legendColumns = Math.max(1, Math.floor((width - left) / 190));
  const legendRows = Math.ceil(variants.length / legendColumns);
  const headerHeight = 52 + legendRows * 18;
  const panelHeight = 225;
  const plotHeight = 170;
  const height = headerHeight + meta.servers.length * panelHeight + 8;

  const ratios = summaries.map((summary) => summary.ratio ?? 0);
  const top = Math.max(1.2, Math.ceil((Math.max(0, ...ratios) + 0.05) / 0.2) * 0.2);
  const colorOf = (variant: string) => palette[variants.indexOf(variant) % palette.length]!;

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
      `font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="${left}" y="20" font-size="14" font-weight="600">Requests per second relative to bare Express (higher is better)</text>`,
    `<text x="${left}" y="36" fill="#555">${escapeXml(
      `${meta.date.slice(0, 10)} · ${meta.machine.cpu} · ${meta.machine.cores} cores · ${meta.settings.connections} connections, ` +
        `${meta.settings.duration} s × ${meta.settings.rounds} round${meta.settings.rounds === 1 ? "" : "s"} (median; whisker: lowest–highest round)` +
        (meta.settings.smoke ? " · SMOKE RUN, not a measurement" : ""),
    )}</text>`,
  );
  variants.forEach((variant, index) => {
    const x = left + (index % legendColumns) * 190;
    const y = 50 + Math.floor(index / legendColumns) * 18;
    out.push(
      `<rect x="${x}" y="${y}" width="11" height="11" fill="${colorOf(variant)}"/>`,
      `<text x="${x + 16}" y="${y + 10}">${escapeXml(variant)}</text>`,
    );
  });

  meta.servers.forEach((server, panel) => {
    const panelTop = headerHeight + panel * panelHeight;
    const plotTop = panelTop + 24;
    const plotBottom = plotTop + plotHeight;
    const y = (ratio: number) => plotBottom - (Math.min(ratio, top) / top) * plotHeight;
    out.push(`<text x="${left}" y="${panelTop + 12}" font-size="12" font-weight="600">${escapeXml(nodeLabel(server))}</text>`);
    for (let tick = 0; tick <= top + 1e-9; tick += 0.2) {
      out.push(
        `<line x1="${left}" x2="${left + plotWidth}" y1="${y(tick).toFixed(1)}" y2="${y(tick).toFixed(1)}" stroke="#e5e7eb"/>`,
        `<text x="${left - 6}" y="${(y(tick) + 4).toFixed(1)}" text-anchor="end" fill="#555">${tick.toFixed(1)}</text>`,
      );
    }
    out.push(
      `<line x1="${left}" x2="${left + plotWidth}" y1="${y(1).toFixed(1)}" y2="${y(1).toFixed(1)}" stroke="#111" stroke-dasharray="4 3"/>`,
      `<text x="${left + plotWidth}" y="${(y(1) - 4).toFixed(1)}" text-anchor="end" fill="#111">bare Express = 1</text>`,
      `<line x1="${left}" x2="${left}" y1="${plotTop}" y2="${plotBottom}" stroke="#999"/>`,
    );
    workloads.forEach((workload, group) => {
      const groupLeft = left + 12 + group * (groupWidth + groupGap);
      out.push(
        `<text x="${(groupLeft + groupWidth / 2).toFixed(1)}" y="${plotBottom + 16}" text-anchor="middle" font-weight="600">${escapeXml(workload)}</text>`,
      );
      variants.forEach((variant, index) => {
        const summary = summaries.find((s) => s.node === server.node && s.workload === workload && s.variant === variant);
        if (!summary) return;
        const x = groupLeft + index * (barWidth + barGap);
        const center = (x + barWidth / 2).toFixed(1);
        if (summary.status !== "valid" || summary.ratio === undefined) {
          const label = summary.status === "too-large" ? "too large" : "INVALID";
          out.push(
            `<text transform="translate(${center} ${plotBottom - 4}) rotate(-90)" fill="#b91c1c" font-size="10">${label}</text>`,
          );
          return;
        }
        const barTop = y(summary.ratio);
        out.push(
          `<rect x="${x}" y="${barTop.toFixed(1)}" width="${barWidth}" height="${(plotBottom - barTop).toFixed(1)}" fill="${colorOf(variant)}">` +
            `<title>${escapeXml(`${variant} · ${workload}: ${summary.ratio.toFixed(3)} × bare`)}</title></rect>`,
        );
        // The rounds' spread as a whisker: bars whose whiskers overlap are not told apart by this run.
        const hasSpread = summary.rounds > 1 && summary.ratioMin !== undefined && summary.ratioMax !== undefined;
        if (hasSpread) {
          out.push(
            `<line x1="${center}" x2="${center}" y1="${y(summary.ratioMax!).toFixed(1)}" y2="${y(summary.ratioMin!).toFixed(1)}" stroke="#111" stroke-width="1"/>`,
          );
        }
        const labelBottom = hasSpread ? Math.min(barTop, y(summary.ratioMax!)) : barTop;
        out.push(
          `<text transform="translate(${center} ${(labelBottom - 3).toFixed(1)}) rotate(-90)" font-size="9" fill="#333">${summary.ratio.toFixed(2)}</text>`,
        );
      });
    });
  });
  out.push("</svg>", "");
  return out.join("\n");
}
