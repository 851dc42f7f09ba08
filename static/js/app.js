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

  // Countdowns (a group buy's time left, a limited-time or flash price's end): <span
  // data-deadline="ISO time">, ticking each second.
  var deadlines = document.querySelectorAll("[data-deadline]");
  if (deadlines.length) {
    var tickDeadlines = function () {
      deadlines.forEach(function (box) {
        var left = Math.max(0, Math.floor((Date.parse(box.getAttribute("data-deadline")) - Date.now()) / 1000));
        var h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
        box.textContent = h + ":" + String(m).padStart(2, "0") + ":" + String(s).padStart(2, "0");
      });
    };
    tickDeadlines();
    setInterval(tickDeadlines, 1000);
  }
})();
