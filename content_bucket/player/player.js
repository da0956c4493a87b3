/*
 * Onramp SCORM player (chalicelib/templates/player.html).
 *
 * Reads the JSON config the page carries (<script type="application/json" id="player-config">), loads the
 * scorm-again bundle for the standard (vendor/scorm12.min.js or vendor/scorm2004.min.js, built by build.sh),
 * creates the run-time API with the SCO's saved data (loadFromJSON), exposes it as window.API (SCORM 1.2) or
 * window.API_1484_11 (SCORM 2004), and only then points the frame at the SCO.
 *
 * Commits: scorm-again's synchronous mode. LMSCommit / Commit and the autocommit (10 s after a SetValue) POST the
 * whole CMI as application/json to config.commitUrl + "&sco=<id>" with a synchronous XHR, so the SCO learns whether
 * its data was saved (SCORM requires that; the asynchronous mode always answers "true"). LMSFinish / Terminate sends
 * the final commit with navigator.sendBeacon as text/plain;charset=UTF-8 (no preflight, survives the page going
 * away), with "terminated": true in the body. The endpoint answers {"result": true, "errorCode": 0, "attempt": {...}};
 * the attempt's rolled-up status updates the header.
 *
 * Leaving: the navigation buttons, contents links and Exit first unload the SCO (frame -> about:blank, so the SCO's
 * own unload handlers can save and terminate), then terminate it if it did not, then navigate. When the page itself
 * goes away (tab closed, reload, browser navigation) "pagehide" terminates a SCO that is still running.
 */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("player-config").textContent);
  var is2004 = config.standard === "scorm2004";
  var frame = document.getElementById("sco-frame");
  var alertBox = document.querySelector("[data-testid='player-alert']");
  var statusEl = document.querySelector("[data-testid='course-status']");
  var api = null;
  var leaving = false;

  // The rolled-up status: SCORM's words or the attempt's (in_progress / completed / failed); score is a percentage.
  var COMPLETION_LABELS = {
    "completed": "Completed",
    "incomplete": "In progress",
    "in_progress": "In progress",
    "failed": "Not passed",
    "not attempted": "Not started",
    "unknown": "Not started"
  };
  var SUCCESS_LABELS = { "passed": "Passed", "failed": "Not passed" };

  function withParam(url, name, value) {
    var hash = "";
    var at = url.indexOf("#");
    if (at >= 0) {
      hash = url.slice(at);
      url = url.slice(0, at);
    }
    var sep = url.indexOf("?") < 0 ? "?" : (/[?&]$/.test(url) ? "" : "&");
    return url + sep + encodeURIComponent(name) + "=" + encodeURIComponent(value) + hash;
  }

  function scoUrl(scoId) {
    return withParam(config.launchUrl, "sco", scoId);
  }

  function currentSco() {
    var scos = config.scos || [];
    for (var i = 0; i < scos.length; i++) {
      if (scos[i].id === config.scoId) return scos[i];
    }
    return null;
  }

  function neighbour(offset) {
    var scos = config.scos || [];
    for (var i = 0; i < scos.length; i++) {
      if (scos[i].id === config.scoId) return scos[i + offset] || null;
    }
    return null;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Branding and status

  function applyBrand() {
    var body = document.body;
    var pairs = [["brandPrimary", "--brand-primary"], ["brandAccent", "--brand-accent"], ["brandText", "--brand-text"]];
    pairs.forEach(function (pair) {
      var value = (body.dataset[pair[0]] || "").trim();
      // Only real colours: a custom property holding url(...) could make the page fetch something.
      if (value && window.CSS && CSS.supports && CSS.supports("color", value) && !/url\s*\(/i.test(value)) {
        document.documentElement.style.setProperty(pair[1], value);
      }
    });
  }

  function updateStatus(attempt) {
    if (!statusEl || !attempt || typeof attempt !== "object") return;
    var parts = [COMPLETION_LABELS[attempt.completion] || "Not started"];
    var success = SUCCESS_LABELS[attempt.success];
    if (success && success !== parts[0]) parts.push(success);
    var score = attempt.score;
    if (typeof score === "number" && isFinite(score)) parts.push(Math.round(score) + "%");
    statusEl.textContent = parts.join(" · ");
    statusEl.dataset.completion = attempt.completion || "";
    statusEl.dataset.success = attempt.success || "";
    statusEl.dataset.score = typeof score === "number" ? String(score) : "";
  }

  function showAlert(message) {
    if (!alertBox) return;
    alertBox.textContent = message;
    alertBox.hidden = false;
  }

  function hideAlert() {
    if (alertBox) alertBox.hidden = true;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Commit responses: one rule for the synchronous XHR (xhrResponseHandler) and for fetch (responseHandler, used only
  // if useAsynchronousCommits is ever switched on).

  function commitResult(ok, status, body) {
    if (body && typeof body === "object" && body.attempt) updateStatus(body.attempt);
    var failure = { result: "false", errorCode: is2004 ? 391 : 101 };
    if (!ok) {
      if (status === 401 || status === 403) {
        showAlert("Your session has expired, so your progress can no longer be saved. Reopen the course to continue.");
      } else {
        showAlert("Your progress could not be saved just now. It will be saved again as you continue.");
      }
      return failure;
    }
    if (body && typeof body === "object" && Object.prototype.hasOwnProperty.call(body, "result")) {
      var success = body.result === true || body.result === "true";
      if (success) hideAlert();
      return {
        result: success ? "true" : "false",
        errorCode: typeof body.errorCode === "number" ? body.errorCode : (success ? 0 : failure.errorCode)
      };
    }
    hideAlert();
    return { result: "true", errorCode: 0 };
  }

  function xhrResponseHandler(xhr) {
    var body = null;
    try {
      body = JSON.parse(xhr.responseText);
    } catch (e) {
      body = null;
    }
    return commitResult(xhr.status >= 200 && xhr.status <= 299, xhr.status, body);
  }

  function responseHandler(response) {
    return Promise.resolve()
      .then(function () { return response.json(); })
      .catch(function () { return null; })
      .then(function (body) { return commitResult(!!response.ok, response.status, body); });
  }

  // ---------------------------------------------------------------------------------------------------------------
  // The run-time API

  function loadBundle() {
    var name = is2004 ? "scorm2004.min.js" : "scorm12.min.js";
    var global = is2004 ? "Scorm2004API" : "Scorm12API";
    if (typeof window[global] === "function") return Promise.resolve(window[global]);
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = config.assetBase + "vendor/" + name;
      script.async = true;
      script.onload = function () {
        if (typeof window[global] === "function") resolve(window[global]);
        else reject(new Error(name + " did not define " + global));
      };
      script.onerror = function () { reject(new Error("could not load " + script.src)); };
      document.head.appendChild(script);
    });
  }

  function settings() {
    return {
      lmsCommitUrl: withParam(config.commitUrl, "sco", config.scoId),
      autocommit: true,
      autocommitSeconds: 10,
      useAsynchronousCommits: false,
      dataCommitFormat: "json",
      sendFullCommit: true,
      renderCommonCommitFields: false,
      commitRequestDataType: "application/json;charset=UTF-8",
      terminationCommitContentType: "text/plain;charset=UTF-8",
      terminateCommitPayloadField: "terminated",
      selfReportSessionTime: false,
      alwaysSendTotalTime: false,
      autoProgress: false,
      // The LMS judges mastery (chalicelib.content.runtime.parse_commit), on every commit rather than at terminate only.
      mastery_override: false,
      logLevel: 4,
      scoId: config.scoId,
      xhrResponseHandler: xhrResponseHandler,
      responseHandler: responseHandler
    };
  }

  // loadFromJSON sets values in key order, and scorm-again needs an interaction's (or objective's) id, then its type,
  // before anything else: learner_response and correct_responses are checked against the type. Jinja's tojson sorts
  // keys, so restore that order here: id, type, the other plain values, then nested objects and arrays.
  function orderForLoad(value) {
    if (Array.isArray(value)) return value.map(orderForLoad);
    if (value === null || typeof value !== "object") return value;
    var rank = function (key) {
      var nested = value[key] !== null && typeof value[key] === "object";
      return nested ? 3 : (key === "id" ? 0 : (key === "type" ? 1 : 2));
    };
    var out = {};
    Object.keys(value)
      .map(function (key, index) { return [rank(key), index, key]; })
      .sort(function (a, b) { return a[0] - b[0] || a[1] - b[1]; })
      .forEach(function (entry) { out[entry[2]] = orderForLoad(value[entry[2]]); });
    return out;
  }

  // loadFromJSON stops at the first value scorm-again refuses; then load what can be loaded, one value at a time.
  function loadCmi(target, cmi) {
    cmi = orderForLoad(cmi);
    try {
      target.loadFromJSON(cmi, "");
    } catch (e) {
      console.warn("player: resume data refused (" + e.message + "); loading it value by value");
      leaves(cmi, []).forEach(function (leaf) {
        var nested = leaf[1];
        for (var i = leaf[0].length - 1; i >= 0; i--) {
          var wrap = {};
          wrap[leaf[0][i]] = nested;
          nested = wrap;
        }
        try {
          target.loadFromJSON(nested, "");
        } catch (err) {
          console.warn("player: skipped cmi." + leaf[0].join(".") + ": " + err.message);
        }
      });
    }
    target.lastErrorCode = "0";
  }

  function leaves(value, path) {
    if (value === null || typeof value !== "object") return [[path, value]];
    var out = [];
    Object.keys(value).forEach(function (key) {
      out = out.concat(leaves(value[key], path.concat([String(key)])));
    });
    return out;
  }

  function createApi(Api) {
    var instance = new Api(settings());
    loadCmi(instance, config.cmi || {});
    instance.on(is2004 ? "Terminate" : "LMSFinish", function () {
      if (instance.isTerminated()) frame.dataset.scoState = "terminated";
    });
    instance.on(is2004 ? "Initialize" : "LMSInitialize", function () {
      frame.dataset.scoState = "initialized";
    });
    // A SCO asking for navigation when it terminates (2004 adl.nav.request; scorm-again's 1.2 nav.event).
    instance.on("SequenceNext", function () { followSco(neighbour(1)); });
    instance.on("SequencePrevious", function () { followSco(neighbour(-1)); });
    instance.on("SequenceChoice", function (target) { followSco(findSco(target)); });
    instance.on("SequenceJump", function (target) { followSco(findSco(target)); });
    ["SequenceExit", "SequenceExitAll", "SequenceAbandonAll", "SequenceSuspendAll"].forEach(function (name) {
      instance.on(name, function () { setTimeout(function () { leave({ exit: true }); }, 0); });
    });
    return instance;
  }

  function findSco(id) {
    var scos = config.scos || [];
    for (var i = 0; i < scos.length; i++) {
      if (scos[i].id === id) return scos[i];
    }
    return null;
  }

  function followSco(sco) {
    if (sco) setTimeout(function () { leave({ scoId: sco.id }); }, 0);
  }

  // Terminate the SCO if it is still running: the final commit goes out as a beacon. While this page stays up, commit
  // first (a synchronous XHR the server has answered before the next page is requested), so the data never depends
  // on the beacon alone: it races the navigation that follows, and browsers refuse beacons over 64 KB.
  function finishSco(pageIsGoing) {
    if (!api || !api.isInitialized()) return;
    try {
      if (!pageIsGoing) {
        if (is2004) api.Commit("");
        else api.LMSCommit("");
      }
      if (is2004) api.Terminate("");
      else api.LMSFinish("");
    } catch (e) {
      console.error("player: terminating the SCO failed", e);
    }
  }

  // Let the SCO's own unload handlers run (many save and terminate there), then make sure it terminated.
  function unloadSco() {
    return new Promise(function (resolve) {
      var settled = false;
      function done() {
        if (settled) return;
        settled = true;
        finishSco(false);
        resolve();
      }
      if (!frame.getAttribute("src")) {
        done();
        return;
      }
      frame.addEventListener("load", done, { once: true });
      setTimeout(done, 3000);
      try {
        frame.src = "about:blank";
      } catch (e) {
        done();
      }
    });
  }

  function setButtonsDisabled(disabled) {
    document.querySelectorAll(".player-button").forEach(function (button) { button.disabled = disabled; });
  }

  function leave(target) {
    if (leaving) return;
    leaving = true;
    setButtonsDisabled(true);
    unloadSco().then(function () {
      if (target.scoId !== undefined) {
        window.location.assign(scoUrl(target.scoId));
      } else if (config.exitUrl) {
        window.location.assign(config.exitUrl);
      } else {
        frame.hidden = true;
        showAlert("You have left the course. Your progress has been saved; you can close this window.");
        try {
          window.close();
        } catch (e) {
          // Only windows opened by script may close themselves.
        }
      }
    });
  }

  function wireNavigation() {
    document.querySelectorAll("[data-testid='nav-prev'], [data-testid='nav-next']").forEach(function (button) {
      button.addEventListener("click", function () { leave({ scoId: button.dataset.sco }); });
    });
    var exit = document.querySelector("[data-testid='nav-exit']");
    if (exit) exit.addEventListener("click", function () { leave({ exit: true }); });
    document.querySelectorAll("[data-testid='sco-choice'] a[data-sco]").forEach(function (link) {
      link.addEventListener("click", function (event) {
        if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
        event.preventDefault();
        if (link.dataset.sco !== config.scoId) leave({ scoId: link.dataset.sco });
      });
    });
  }

  function start(Api) {
    var sco = currentSco();
    if (!sco) {
      showAlert("This part of the course could not be found.");
      return;
    }
    api = createApi(Api);
    if (is2004) window.API_1484_11 = api;
    else window.API = api;
    // The page going away (tab closed, reload, back button): terminate a SCO that is still running. Chromium fires
    // this page's pagehide before the frame's, and a frame whose parent has gone cannot reach the API any more, so
    // detach the frame first: that runs the SCO's own pagehide/unload handlers (which often set session_time and
    // call LMSFinish) while the API still works. A second LMSFinish is harmless ("already terminated").
    window.addEventListener("pagehide", function () {
      leaving = true;
      if (frame.parentNode && frame.getAttribute("src")) frame.parentNode.removeChild(frame);
      finishSco(true);
    });
    // Back from the back/forward cache the SCO is gone (terminated above): start afresh.
    window.addEventListener("pageshow", function (event) {
      if (event.persisted) window.location.reload();
    });
    frame.dataset.scoState = "loading";
    frame.src = sco.url;
  }

  // cmi5 and xAPI packages: the content talks xAPI to the LRS itself, with the launch parameters its URL carries
  // (a cmi5 AU's URL is the cmi5 launch route, which redirects with them). An AU that asks for its own window
  // replaces this page; others are framed.
  function startAu() {
    var au = currentSco();
    if (!au) {
      showAlert("This part of the course could not be found.");
      return;
    }
    if (au.launchMethod === "OwnWindow") window.location.assign(au.url);
    else frame.src = au.url;
  }

  applyBrand();
  wireNavigation();
  if (config.standard === "cmi5" || config.standard === "xapi") {
    startAu();
  } else {
    loadBundle().then(start).catch(function (error) {
      console.error("player:", error);
      showAlert("The course player could not start. Reload the page to try again.");
    });
  }
})();
