/* Small progressive enhancements: copy buttons, quantity steppers and price countdowns. Pages
   work without it. */
(function () {
  "use strict";

  function copyText(input, button) {
    var text = input.value;
    var done = function () {
      var label = button.textContent;
      button.textContent = "✓";
      setTimeout(function () { button.textContent = label; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { fallback(); });
    } else {
      fallback();
    }
    function fallback() {
      input.focus();
      input.select();
      try { document.execCommand("copy"); done(); } catch (e) { /* the text stays selected */ }
    }
  }

  document.addEventListener("click", function (event) {
    var copy = event.target.closest("[data-copy]");
    if (copy) {
      var input = document.getElementById(copy.getAttribute("data-copy"));
      if (input) { copyText(input, copy); }
      return;
    }
    var step = event.target.closest(".stepper .step");
    if (step) {
      var field = step.parentNode.querySelector("input");
      var value = parseInt(field.value, 10) || 1;
      var next = value + parseInt(step.getAttribute("data-step"), 10);
      var max = parseInt(field.max, 10) || 999;
      field.value = Math.min(Math.max(next, 1), max);
    }
  });

  // A limited-time or flash price counts down to its end (the page shows the end time without JS).
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-countdown]").forEach(function (element) {
      var left = Math.max(0, Math.floor((Date.parse(element.getAttribute("data-countdown")) - now) / 1000));
      var days = Math.floor(left / 86400);
      var clock = pad(Math.floor(left % 86400 / 3600)) + ":" + pad(Math.floor(left % 3600 / 60)) + ":" + pad(left % 60);
      element.textContent = element.getAttribute("data-label") + " " + (days ? days + "d " : "") + clock;
    });
  }
  if (document.querySelector("[data-countdown]")) {
    tick();
    setInterval(tick, 1000);
  }
})();
