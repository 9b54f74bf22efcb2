// The dashboard's charts: each element with data-chart is drawn with the vendored Apache ECharts from the numbers
// the page carries (the same ones its table shows); nothing is fetched and nothing runs inline (CSP 'self').
(function () {
  "use strict";

  function withUnit(unit) {
    return function (value) {
      if (value === null || value === undefined) {
        return "—";
      }
      return Number(value).toLocaleString("zh-CN", { maximumFractionDigits: 2 }) + (unit === "%" ? "%" : " " + unit);
    };
  }

  function barOptions(data) {
    var unit = data.series.length ? data.series[0].unit : "";
    return {
      tooltip: { trigger: "axis", valueFormatter: withUnit(unit) },
      legend: { top: 0 },
      grid: { left: 48, right: 16, top: 40, bottom: 56 },
      xAxis: { type: "category", data: data.categories, axisLabel: { interval: 0, rotate: data.categories.length > 4 ? 30 : 0 } },
      yAxis: { type: "value", name: unit, max: unit === "%" ? 100 : null },
      series: data.series.map(function (s) {
        return { name: s.name, type: "bar", data: s.values, label: { show: data.series.length === 1 && data.categories.length <= 8, position: "top", formatter: function (p) { return withUnit(s.unit)(p.value); } } };
      })
    };
  }

  function pieOptions(data) {
    var series = data.series[0] || { name: "", values: [], unit: "" };
    return {
      tooltip: { trigger: "item", valueFormatter: withUnit(series.unit) },
      legend: { bottom: 0 },
      series: [{
        name: series.name,
        type: "pie",
        radius: ["35%", "65%"],
        label: { formatter: function (p) { return p.name + "：" + withUnit(series.unit)(p.value); } },
        data: data.categories.map(function (name, i) { return { name: name, value: series.values[i] }; })
      }]
    };
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (typeof window.echarts === "undefined") {
      return;
    }
    var charts = [];
    document.querySelectorAll("[data-chart]").forEach(function (element) {
      var data = JSON.parse(element.getAttribute("data-chart"));
      var chart = window.echarts.init(element, null, { renderer: "canvas", locale: "ZH" });
      chart.setOption(data.kind === "pie" ? pieOptions(data) : barOptions(data));
      charts.push(chart);
    });
    window.addEventListener("resize", function () {
      charts.forEach(function (chart) { chart.resize(); });
    });
  });
})();
