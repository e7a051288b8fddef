/* Assessment charts (ECharts, vendored): the ranking of scores and one card's indicator values. */
(function () {
  "use strict";
  var ec = window.echarts;
  if (!ec) return;
  function data(id) { var el = document.getElementById(id); return el ? JSON.parse(el.textContent) : null; }
  var font = { fontFamily: "PingFang SC, Microsoft YaHei, Noto Sans CJK SC, sans-serif" };
  var rank = data("chart-data");
  var el = document.getElementById("score-chart");
  if (rank && el && rank.divisions.length) {
    var c = ec.init(el, null, { renderer: "svg" });
    c.setOption({
      textStyle: font, animation: false,
      grid: { left: 40, right: 10, top: 30, bottom: 60 },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: rank.divisions, axisLabel: { rotate: 30 } },
      yAxis: { type: "value", min: 0, max: 100 },
      series: [{ name: rank.title, type: "bar", data: rank.scores, itemStyle: { color: "#0b6e4f" }, label: { show: true, position: "top" } }],
    });
    window.addEventListener("resize", function () { c.resize(); });
    el.setAttribute("data-rendered", "true");
  }
  var ind = data("indicator-data");
  var el2 = document.getElementById("indicator-chart");
  if (ind && el2 && ind.indicators.length) {
    var c2 = ec.init(el2, null, { renderer: "svg" });
    c2.setOption({
      textStyle: font, animation: false,
      grid: { left: 150, right: 20, top: 10, bottom: 30 },
      xAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
      yAxis: { type: "category", data: ind.indicators, inverse: true },
      series: [{ type: "bar", data: ind.values, itemStyle: { color: "#1f6fb2" }, label: { show: true, position: "right", formatter: function (p) { return p.value == null ? "—" : p.value.toFixed(1) + "%"; } } }],
    });
    window.addEventListener("resize", function () { c2.resize(); });
    el2.setAttribute("data-rendered", "true");
  }
})();
