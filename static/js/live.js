/* Live rooms: the viewer's page and the host console share this client (README, "Live rooms").
 * One WebSocket per page; it reconnects by itself, sends a heartbeat and batches like taps. */
(function () {
  "use strict";

  function $(root, selector) { return root.querySelector(selector); }

  function connect(path, onMessage, onState) {
    var socket = null, retry = 0, heartbeat = null, closedForGood = false;
    var queue = [];
    function open() {
      var scheme = location.protocol === "https:" ? "wss://" : "ws://";
      socket = new WebSocket(scheme + location.host + path);
      socket.onopen = function () {
        retry = 0;
        onState("open");
        while (queue.length) socket.send(queue.shift());
        heartbeat = setInterval(function () { send({ type: "ping" }); }, 20000);
      };
      socket.onmessage = function (event) {
        var message;
        try { message = JSON.parse(event.data); } catch (e) { return; }
        onMessage(message);
      };
      socket.onclose = function (event) {
        clearInterval(heartbeat);
        var final = event.code === 4404 || event.code === 4400 || event.code === 4413;
        onState(final ? "refused" : "closed", event.code, event.reason);
        if (final || closedForGood) return;
        retry = Math.min(retry + 1, 6);
        setTimeout(open, 500 * Math.pow(2, retry - 1));
      };
    }
    function send(message) {
      var text = JSON.stringify(message);
      if (socket && socket.readyState === WebSocket.OPEN) socket.send(text);
      else queue.push(text);
    }
    open();
    return { send: send, close: function () { closedForGood = true; socket.close(); } };
  }

  function chatLine(message, host, send, labels) {
    var li = document.createElement("li");
    li.className = "live-chat-line";
    li.dataset.id = message.id;
    li.dataset.test = "chat-line";
    var name = document.createElement("b");
    name.textContent = message.name + ": ";
    var text = document.createElement("span");
    text.textContent = message.text;
    li.appendChild(name);
    li.appendChild(text);
    if (host) {
      var del = document.createElement("button");
      del.type = "button"; del.className = "button small"; del.textContent = labels.delete;
      del.dataset.test = "chat-delete";
      del.onclick = function () { send({ type: "delete", message_id: message.id }); };
      var mute = document.createElement("button");
      mute.type = "button"; mute.className = "button small"; mute.textContent = labels.mute;
      mute.dataset.test = "chat-mute";
      mute.onclick = function () { send({ type: "mute", user_id: message.user_id }); };
      li.appendChild(del);
      li.appendChild(mute);
    }
    return li;
  }

  function startPlayer(root) {
    var video = $(root, "[data-live-player]");
    if (!video) return;
    var url = video.dataset.src;
    if (!url) return;
    if (window.Hls && window.Hls.isSupported()) {
      var hls = new window.Hls();
      hls.loadSource(url);
      hls.attachMedia(video);
    } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
      video.src = url;  // Safari and WeChat on iOS play HLS natively
    }
  }

  function countdown(root) {
    var box = $(root, "[data-countdown]");
    if (!box) return;
    var target = Date.parse(box.dataset.countdown);
    function tick() {
      var left = Math.max(0, Math.floor((target - Date.now()) / 1000));
      var h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
      box.textContent = (h ? h + ":" : "") + String(m).padStart(2, "0") + ":" + String(s).padStart(2, "0");
    }
    tick();
    setInterval(tick, 1000);
  }

  function init(root) {
    var host = root.dataset.role === "host";
    var labels = JSON.parse(root.dataset.labels || "{}");
    var chat = $(root, "[data-chat]");
    var pinnedBox = $(root, "[data-pinned]");
    var notice = $(root, "[data-notice]");
    var you = {};
    var likeTaps = 0;
    var live = connect(root.dataset.socket, onMessage, function (state, code, reason) {
      root.dataset.socketState = state;
      // Refused for good (unknown room, a frame the room does not understand): say why. The
      // server's close reason when the server passes it on (daphne sends only the code).
      if (state === "refused") showNotice(reason || labels["closed_" + code] || "");
    });

    function addChat(message) {
      if (!chat) return;
      chat.appendChild(chatLine(message, host, live.send, labels));
      while (chat.children.length > 200) chat.removeChild(chat.firstChild);
      chat.scrollTop = chat.scrollHeight;
    }
    function showNotice(text) {
      if (!notice) return;
      notice.textContent = text;
      notice.hidden = false;
      clearTimeout(showNotice.timer);
      showNotice.timer = setTimeout(function () { notice.hidden = true; }, 5000);
    }
    function setStats(stats) {
      ["viewers", "peak", "likes"].forEach(function (name) {
        var el = $(root, "[data-stat='" + name + "']");
        if (el && stats[name] !== undefined) el.textContent = stats[name];
      });
    }
    function showPinned(product) {
      if (!pinnedBox) return;
      if (!product) { pinnedBox.hidden = true; pinnedBox.dataset.productId = ""; return; }
      pinnedBox.hidden = false;
      pinnedBox.dataset.productId = product.id;
      $(pinnedBox, "[data-pinned-name]").textContent = product.name;
      var select = $(pinnedBox, "select[name=sku]");
      if (select) {
        select.innerHTML = "";
        product.skus.forEach(function (sku) {
          var option = document.createElement("option");
          option.value = sku.id;
          option.dataset.price = sku.live_price || sku.price;
          option.textContent = sku.name + " · ¥" + (sku.live_price || sku.price) +
            (sku.live_price ? " (" + labels.live_price + ", ¥" + sku.price + ")" : "");
          select.appendChild(option);
        });
        select.onchange = updateTotal;
        updateTotal();
      }
      var image = $(pinnedBox, "img");
      if (image) { image.src = product.image || ""; image.hidden = !product.image; }
      document.querySelectorAll("[data-pin-product]").forEach(function (button) {
        button.classList.toggle("active", String(button.dataset.pinProduct) === String(product.id));
      });
    }
    function updateTotal() {
      var select = $(pinnedBox, "select[name=sku]");
      var quantity = $(pinnedBox, "input[name=quantity]");
      var total = $(pinnedBox, "input[name=expected_total]");
      var shown = $(pinnedBox, "[data-pinned-total]");
      if (!select || !select.selectedOptions.length) return;
      var cents = Math.round(parseFloat(select.selectedOptions[0].dataset.price) * 100) *
        Math.max(1, parseInt(quantity ? quantity.value : "1", 10) || 1);
      var text = (cents / 100).toFixed(2);
      if (total) total.value = text;
      if (shown) shown.textContent = "¥" + text;
    }
    if (pinnedBox) {
      var q = $(pinnedBox, "input[name=quantity]");
      if (q) q.oninput = updateTotal;
    }

    function onMessage(message) {
      switch (message.type) {
        case "batch":  // the room's events of the last ~150 ms, in order (README, "batch")
          message.messages.forEach(onMessage);
          break;
        case "welcome":
          you = message.you;
          if (chat) { chat.innerHTML = ""; message.chat.forEach(addChat); }
          setStats(message.stats);
          showPinned(message.room.pinned);
          root.dataset.status = message.room.status;
          root.dataset.ready = "1";
          break;
        case "chat": addChat(message); break;
        case "chat_deleted":
          var line = chat && chat.querySelector("[data-id='" + message.id + "']");
          if (line) line.remove();
          break;
        case "stats": setStats(message); break;
        case "pinned": showPinned(message.product); break;
        case "unpinned": showPinned(null); break;
        case "purchase":
          showNotice(labels.bought.replace("%(name)s", message.name).replace("%(product)s", message.product));
          break;
        case "status":
          root.dataset.status = message.status;
          if (!host && message.status !== root.dataset.initialStatus) location.reload();
          break;
        case "muted":
          if (you.user_id === message.user_id) { you.can_chat = false; showNotice(labels.you_muted); }
          if (host) showNotice(labels.muted);
          break;
        case "unmuted":
          if (you.user_id === message.user_id) { you.can_chat = true; }
          break;
        case "error": showNotice(message.message); break;
      }
    }

    var form = $(root, "[data-chat-form]");
    if (form) {
      form.onsubmit = function (event) {
        event.preventDefault();
        var input = form.querySelector("input[name=text]");
        if (!input.value.trim()) return;
        live.send({ type: "chat", text: input.value });
        input.value = "";
      };
    }
    var like = $(root, "[data-like]");
    if (like) {
      like.onclick = function () {
        likeTaps += 1;
        var el = $(root, "[data-stat='likes']");
        if (el) el.textContent = (parseInt(el.textContent, 10) || 0) + 1;
      };
      setInterval(function () {  // taps are sent once a second, at most 100 at a time
        if (!likeTaps) return;
        var count = Math.min(likeTaps, 100);
        likeTaps -= count;
        live.send({ type: "like", count: count });
      }, 1000);
    }
    document.querySelectorAll("[data-pin-product]").forEach(function (button) {
      button.onclick = function () {
        live.send({ type: "pin", product_id: parseInt(button.dataset.pinProduct, 10) });
      };
    });
    var unpin = $(root, "[data-unpin]");
    if (unpin) unpin.onclick = function () { live.send({ type: "unpin" }); };
    if (root.dataset.figures) {
      var refresh = function () {
        fetch(root.dataset.figures, { credentials: "same-origin" })
          .then(function (response) { return response.json(); })
          .then(function (figures) {
            Object.keys(figures).forEach(function (name) {
              var el = $(root, "[data-figure='" + name + "']");
              if (el && typeof figures[name] !== "object") el.textContent = figures[name];
            });
            var rows = $(root, "[data-figure-rows]");
            if (rows) {
              rows.innerHTML = "";
              figures.by_distributor.forEach(function (row) {
                var tr = document.createElement("tr");
                [row.name || labels.direct, row.orders, "¥" + row.paid_amount].forEach(function (value) {
                  var td = document.createElement("td");
                  td.textContent = value;
                  tr.appendChild(td);
                });
                rows.appendChild(tr);
              });
            }
          })
          .catch(function () {});
      };
      setInterval(refresh, 5000);
    }
    startPlayer(root);
    countdown(root);
    window.fenxiaoLive = live;
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-live-room]").forEach(init);
  });
})();
