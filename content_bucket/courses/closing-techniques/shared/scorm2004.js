/*
 * Closing Techniques: the SCORM 2004 (4th Edition) run-time helpers both SCOs share.
 * Written for the Onramp starter content. Plain ES2017, no dependencies, no build step.
 *
 * window.OnrampScorm2004.connect() finds API_1484_11, calls Initialize("") and returns a session:
 *   session.state     "ok" | "missing" (no API found) | "refused" (Initialize returned "false")
 *   session.active    true between a successful Initialize and Terminate
 *   session.get(key) / session.set(key, value) / session.commit() / session.terminate()
 *   session.onLeave(fn)  runs fn once, on pagehide or beforeunload or when session.leave() is called
 * commit() and terminate() set cmi.session_time (an ISO 8601 duration such as "PT1M5.2S") first.
 */
(function () {
  'use strict';

  const MAX_PARENT_HOPS = 7;

  function scanForApi(start) {
    let win = start;
    let hops = 0;
    try {
      while (win && !win.API_1484_11 && win.parent && win.parent !== win && hops < MAX_PARENT_HOPS) {
        hops += 1;
        win = win.parent;
      }
      return win && win.API_1484_11 ? win.API_1484_11 : null;
    } catch (err) {
      return null; // a frame from another origin is in the way
    }
  }

  function findApi() {
    let api = scanForApi(window);
    if (!api) {
      try {
        if (window.opener) {
          api = scanForApi(window.opener);
        }
        if (!api && window.top && window.top.opener && window.top.opener !== window.opener) {
          api = scanForApi(window.top.opener);
        }
      } catch (err) {
        api = null;
      }
    }
    return api;
  }

  function isoDuration(ms) {
    let centis = Math.max(0, Math.round(ms / 10));
    const hours = Math.floor(centis / 360000);
    centis -= hours * 360000;
    const minutes = Math.floor(centis / 6000);
    centis -= minutes * 6000;
    const seconds = (centis / 100).toFixed(2).replace(/\.?0+$/, '');
    let text = 'PT';
    if (hours) {
      text += hours + 'H';
    }
    if (minutes) {
      text += minutes + 'M';
    }
    if (centis || (!hours && !minutes)) {
      text += seconds + 'S';
    }
    return text;
  }

  function warn(message, detail) {
    if (window.console) {
      window.console.warn(message, detail === undefined ? '' : detail);
    }
  }

  function connect() {
    const startedAt = Date.now();
    const leaveHandlers = [];
    let left = false;

    const session = {
      api: findApi(),
      active: false,
      state: 'missing',

      call(name, args) {
        if (!this.api || typeof this.api[name] !== 'function') {
          return '';
        }
        try {
          const value = this.api[name].apply(this.api, args);
          return value === null || value === undefined ? '' : String(value);
        } catch (err) {
          warn('SCORM ' + name + ' threw', err);
          return '';
        }
      },

      ok(result, name, key) {
        if (result === 'true') {
          return true;
        }
        const code = this.call('GetLastError', []);
        if (code && code !== '0') {
          warn('SCORM ' + name + (key ? ' ' + key : '') + ' failed with error ' + code);
        }
        return false;
      },

      get(key) {
        return this.active ? this.call('GetValue', [key]) : '';
      },

      set(key, value) {
        return this.active ? this.ok(this.call('SetValue', [key, String(value)]), 'SetValue', key) : false;
      },

      sessionTime() {
        return isoDuration(Date.now() - startedAt);
      },

      commit() {
        if (!this.active) {
          return false;
        }
        this.set('cmi.session_time', this.sessionTime());
        return this.ok(this.call('Commit', ['']), 'Commit');
      },

      terminate() {
        if (!this.active) {
          return false;
        }
        this.set('cmi.session_time', this.sessionTime());
        this.active = false;
        return this.ok(this.call('Terminate', ['']), 'Terminate');
      },

      onLeave(handler) {
        leaveHandlers.push(handler);
      },

      leave() {
        if (left) {
          return false;
        }
        left = true;
        leaveHandlers.forEach(function (handler) {
          try {
            handler();
          } catch (err) {
            warn('Leaving the SCO failed', err);
          }
        });
        return true;
      },

      hasLeft() {
        return left;
      }
    };

    if (session.api) {
      session.active = session.ok(session.call('Initialize', ['']), 'Initialize');
      session.state = session.active ? 'ok' : 'refused';
    }

    window.addEventListener('pagehide', function () { session.leave(); });
    window.addEventListener('beforeunload', function () { session.leave(); });
    return session;
  }

  function noticeText(session) {
    if (session.state === 'missing') {
      return 'No learning system was found, so your progress will not be saved. You can still read the course.';
    }
    if (session.state === 'refused') {
      return 'The learning system did not start a session, so your progress will not be saved. '
        + 'You can still read the course.';
    }
    return '';
  }

  function readJson(text) {
    if (!text) {
      return null;
    }
    try {
      const data = JSON.parse(text);
      return data && typeof data === 'object' && !Array.isArray(data) ? data : null;
    } catch (err) {
      return null; // not ours, or damaged: start clean rather than fail
    }
  }

  function onReady(fn) {
    if (document.readyState === 'loading') {
      document.addEventListener('DOMContentLoaded', fn);
    } else {
      fn();
    }
  }

  window.OnrampScorm2004 = {
    connect: connect,
    findApi: findApi,
    isoDuration: isoDuration,
    noticeText: noticeText,
    readJson: readJson,
    onReady: onReady
  };
}());
