// The merchant dashboard: fetches its one JSON endpoint and draws the figures with ECharts.
// The last data drawn stays on window.fenxiaoDashboard (the browser tests read it).
(function () {
  "use strict";
  var root = document.getElementById("dashboard");
  if (!root || !window.echarts) { return; }
  var labels = JSON.parse(document.getElementById("dashboard-labels").textContent);
  var charts = {};
  var KPIS = ["paid_amount", "orders", "average_order_value", "refunds", "new_members",
    "new_distributors", "commission_frozen", "commission_released", "commission_paid_out"];

  function chart(id) {
    if (!charts[id]) { charts[id] = window.echarts.init(document.getElementById(id)); }
    return charts[id];
  }

  function kpiCard(name, figure) {
    var card = document.createElement("div");
    card.className = "fx-kpi";
    card.setAttribute("data-kpi", name);
    var label = document.createElement("div");
    label.className = "fx-kpi-label";
    label.textContent = labels[name];
    var value = document.createElement("div");
    value.className = "fx-kpi-value";
    value.setAttribute("data-test", "kpi-value");
    value.textContent = figure.value;
    var change = document.createElement("div");
    change.className = "fx-kpi-change";
    if (figure.change_percent !== null) {
      var up = parseFloat(figure.change_percent) >= 0;
      change.className += up ? " fx-up" : " fx-down";
      change.textContent = (up ? "▲ " : "▼ ") + figure.change_percent + "% " + labels.vs_previous;
    } else {
      change.textContent = "— " + labels.vs_previous;
    }
    card.append(label, value, change);
    return card;
  }

  function draw(data) {
    window.fenxiaoDashboard = data;
    root.querySelector("[data-test=period]").textContent = data.period.start + " – " + data.period.end;
    var kpis = root.querySelector("[data-test=kpis]");
    kpis.replaceChildren.apply(kpis, KPIS.map(function (name) { return kpiCard(name, data.kpis[name]); }));
    chart("chart-daily").setOption({
      title: { text: labels.daily, textStyle: { fontSize: 14 } },
      tooltip: { trigger: "axis" },
      legend: { data: [labels.paid_amount, labels.orders], top: 28 },
      grid: { top: 70, left: 50, right: 50, bottom: 30 },
      xAxis: { type: "category", data: data.daily.days },
      yAxis: [{ type: "value", name: "¥" }, { type: "value", name: labels.orders, minInterval: 1 }],
      series: [
        { name: labels.paid_amount, type: "line", smooth: true, data: data.daily.paid_amount.map(Number) },
        { name: labels.orders, type: "bar", yAxisIndex: 1, data: data.daily.orders }
      ]
    }, true);
    function bars(id, title, rows) {
      chart(id).setOption({
        title: { text: title, textStyle: { fontSize: 14 } },
        tooltip: { trigger: "axis" },
        grid: { top: 40, left: 110, right: 20, bottom: 20 },
        xAxis: { type: "value", name: "¥" },
        yAxis: { type: "category", inverse: true, data: rows.map(function (r) { return r.name; }) },
        series: [{ type: "bar", name: labels.amount, data: rows.map(function (r) { return Number(r.amount); }) }]
      }, true);
    }
    bars("chart-products", labels.top_products, data.top_products);
    bars("chart-distributors", labels.top_distributors, data.top_distributors);
    chart("chart-channel").setOption({
      title: { text: labels.channel, textStyle: { fontSize: 14 } },
      tooltip: { trigger: "item" },
      series: [{ type: "pie", radius: ["35%", "65%"], data: [
        { name: labels.through_distributors, value: Number(data.channel.distributors) },
        { name: labels.direct, value: Number(data.channel.direct) }
      ] }]
    }, true);
    chart("chart-funnel").setOption({
      title: { text: labels.funnel, textStyle: { fontSize: 14 } },
      tooltip: { trigger: "item" },
      series: [{ type: "funnel", sort: "none", top: 40, bottom: 10, left: "8%", width: "55%", label: { formatter: "{b}: {c}" }, data: [
        { name: labels.visits, value: data.funnel.visits },
        { name: labels.bound_customers, value: data.funnel.bound_customers },
        { name: labels.orders_placed, value: data.funnel.orders_placed },
        { name: labels.orders_paid, value: data.funnel.orders_paid }
      ] }]
    }, true);
    var table = root.querySelector("[data-test=per-merchant]");
    if (data.merchants) {
      var body = table.querySelector("tbody");
      body.replaceChildren.apply(body, data.merchants.map(function (m) {
        var row = document.createElement("tr");
        [m.name, m.paid_amount, m.orders].forEach(function (v) {
          var cell = document.createElement("td"); cell.textContent = v; row.append(cell);
        });
        return row;
      }));
      table.hidden = false;
    }
    root.setAttribute("data-ready", data.days);
  }

  function load(days) {
    root.querySelectorAll(".fx-dashboard-ranges button").forEach(function (b) {
      b.setAttribute("aria-pressed", String(b.getAttribute("data-days") === String(days)));
    });
    var url = root.getAttribute("data-url") + "?days=" + days;
    if (root.getAttribute("data-merchant")) { url += "&merchant=" + root.getAttribute("data-merchant"); }
    fetch(url, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(draw);
  }

  root.querySelectorAll(".fx-dashboard-ranges button").forEach(function (button) {
    button.addEventListener("click", function () { load(button.getAttribute("data-days")); });
  });
  window.addEventListener("resize", function () { Object.values(charts).forEach(function (c) { c.resize(); }); });
  load(root.getAttribute("data-days"));
})();
