// The one palette of the UI's charts and graphs: the Okabe–Ito colours (Okabe & Ito, "Color Universal
// Design", 2008), chosen to stay distinguishable with the common colour-vision deficiencies. Every view
// that colours series (the charts, the Pareto chart, the effects chart, the explorer's classes, the
// objective bars) takes its colours from here; none defines its own.
//
// Eight colours are not enough for fourteen device families, and more hues would no longer be
// distinguishable: series beyond the eighth repeat the colours with another point shape, so every
// series keeps a distinct (colour, shape) pair — seriesStyle(i); past LEGIBLE_SERIES a chart merges the
// smallest series into one "other" series.

/** Okabe–Ito, ordered so that the first series get the colours farthest apart. */
export const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#000000"];

/** Chart.js point styles, one per round through the palette (series 0–7 circles, 8–15 triangles, …). */
export const POINT_STYLES = ["circle", "triangle", "rect", "rectRot"];

/** How many series a chart keeps apart (two shapes per colour); a chart with more merges the smallest
 * into one "other" series in OTHER_GREY, since a legend of dozens of look-alike entries helps nobody. */
export const LEGIBLE_SERIES = PALETTE.length * 2;

/** The colour of that merged "other" series (and of nothing else). */
export const OTHER_GREY = "#999999";

/** The same shapes as Cytoscape.js node shapes (the explorer's graph). */
export const GRAPH_SHAPES = { circle: "ellipse", triangle: "triangle", rect: "rectangle", rectRot: "diamond" };

/** The style of series ``i`` (0-based): {colour, pointStyle}; distinct for the first
 * PALETTE.length × POINT_STYLES.length series. */
export function seriesStyle(i) {
  const round = Math.floor(i / PALETTE.length) % POINT_STYLES.length;
  return { colour: PALETTE[i % PALETTE.length], pointStyle: POINT_STYLES[round] };
}

/** Colours of the six objectives of Eq. 1 (the explanation's contribution bar and its legend). */
export const OBJECTIVE_COLOURS = {
  performance: PALETTE[0], reliability: PALETTE[2], security: PALETTE[5], cost: PALETTE[1], latency: PALETTE[3], complexity: PALETTE[4],
};

/** Neutral colour for reference lines (e.g. "perfect prediction"). */
export const REFERENCE_GREY = "#767676";
