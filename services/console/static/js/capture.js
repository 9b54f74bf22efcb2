// The outcome form's field tools: the phone's position, photos uploaded the moment they are taken, and a signature drawn on a canvas.
// Each upload goes to the console (which passes it on to evidence) under a key of its own, sent again unchanged when a
// dropped network makes the browser retry, so the same photo is never recorded twice. Without JavaScript the form still
// works: the photos go with the form when it is sent.
(function () {
  "use strict";
  var form = document.getElementById("outcome-form");
  if (!form) {
    return;
  }
  var task = form.dataset.task;
  var scene = form.dataset.scene;
  var list = document.getElementById("evidence-list");
  var status = document.getElementById("capture-status");
  var token = document.querySelector('meta[name="csrf-token"]').content;
  var place = null;

  function say(text) {
    if (status) {
      status.textContent = text;
    }
  }

  if (navigator.geolocation) {
    navigator.geolocation.getCurrentPosition(
      function (position) {
        place = { lat: position.coords.latitude, lon: position.coords.longitude };
      },
      function () {
        say("未能获取手机位置：照片仍可上传，请确认相机已打开定位");
      },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
    );
  }

  function newKey() {
    var random = window.crypto && window.crypto.randomUUID ? window.crypto.randomUUID() : Date.now().toString(16) + "-" + Math.random().toString(16).slice(2);
    return random.replace(/[^A-Za-z0-9-]/g, "").slice(0, 64);
  }

  function wait(ms) {
    return new Promise(function (resolve) {
      setTimeout(resolve, ms);
    });
  }

  function upload(blob, kind, name) {
    var key = newKey();
    function attempt(left) {
      var data = new FormData();
      data.append("file", blob, name);
      data.append("kind", kind);
      data.append("key", key);
      if (kind === "photo" && scene) {
        data.append("scene", scene);
      }
      if (place) {
        data.append("lat", String(place.lat));
        data.append("lon", String(place.lon));
      }
      say("正在上传…");
      // HX-Request: the console answers with a fragment for the list, as it does for htmx.
      return fetch("/tasks/" + encodeURIComponent(task) + "/evidence", {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { "X-CSRF-Token": token, "HX-Request": "true" }
      }).then(
        function (response) {
          var redirect = response.headers.get("HX-Redirect");
          if (redirect) {
            window.location.assign(redirect);
            return null;
          }
          return response.text().then(function (html) {
            list.insertAdjacentHTML("beforeend", html);
            say(response.ok ? "已上传，核验结果见上方" : "上传未成功，请按提示处理");
          });
        },
        function () {
          if (left > 0) {
            say("网络不稳定，正在重试…");
            return wait(2000).then(function () {
              return attempt(left - 1);
            });
          }
          say("网络中断，上传失败：请检查网络后重新上传");
          return null;
        }
      );
    }
    return attempt(3);
  }

  Array.prototype.forEach.call(form.querySelectorAll("input[type=file][data-upload-kind]"), function (input) {
    input.addEventListener("change", function () {
      Array.prototype.forEach.call(input.files, function (file) {
        upload(file, input.dataset.uploadKind, file.name);
      });
      // Uploaded already: the form must not send the same file again.
      input.value = "";
    });
  });

  var pad = document.getElementById("signature-pad");
  if (!pad) {
    return;
  }
  var ink = pad.getContext("2d");
  var drawing = false;
  var drawn = false;

  function blank() {
    ink.fillStyle = "#ffffff";
    ink.fillRect(0, 0, pad.width, pad.height);
    ink.lineWidth = 4;
    ink.lineCap = "round";
    ink.lineJoin = "round";
    ink.strokeStyle = "#000000";
    drawn = false;
  }

  function point(event) {
    var box = pad.getBoundingClientRect();
    return { x: ((event.clientX - box.left) * pad.width) / box.width, y: ((event.clientY - box.top) * pad.height) / box.height };
  }

  blank();
  pad.addEventListener("pointerdown", function (event) {
    var at = point(event);
    drawing = true;
    drawn = true;
    pad.setPointerCapture(event.pointerId);
    ink.beginPath();
    ink.moveTo(at.x, at.y);
    event.preventDefault();
  });
  pad.addEventListener("pointermove", function (event) {
    if (drawing) {
      var at = point(event);
      ink.lineTo(at.x, at.y);
      ink.stroke();
    }
  });
  ["pointerup", "pointercancel", "pointerleave"].forEach(function (name) {
    pad.addEventListener(name, function () {
      drawing = false;
    });
  });
  document.getElementById("signature-clear").addEventListener("click", blank);
  document.getElementById("signature-save").addEventListener("click", function () {
    if (!drawn) {
      say("请先在框内签名");
      return;
    }
    pad.toBlob(function (png) {
      upload(png, "signature", "signature.png").then(blank);
    }, "image/png");
  });
})();
