/*
 * Closing Techniques, lesson SCO: three pages, bookmarking and completion (SCORM 2004 4th Edition).
 * Written for the Onramp starter content. Needs ../shared/scorm2004.js.
 *
 * cmi.location holds the current page index ("0".."2"); cmi.suspend_data holds {"visited":[0,1]}.
 * cmi.completion_status is "incomplete" until the last page has been shown, then "completed".
 */
(function () {
  'use strict';

  const scorm = window.OnrampScorm2004;

  const state = {
    page: 0,
    visited: [],
    completed: false,
    left: false
  };

  let lms = null;
  let ui = null;
  let navRequest = ''; // sent as adl.nav.request just before Terminate, when set

  function byId(id) {
    return document.getElementById(id);
  }

  function collectUi() {
    return {
      pages: Array.prototype.slice.call(document.querySelectorAll('.page')),
      title: byId('page-title'),
      prev: byId('prev'),
      next: byId('next'),
      exit: byId('exit'),
      proceed: byId('continue'),
      notice: byId('notice'),
      progress: byId('progress'),
      progressFill: byId('progress-fill'),
      progressText: byId('progress-text')
    };
  }

  function showNotice(text) {
    ui.notice.textContent = text;
    ui.notice.hidden = !text;
  }

  function markVisited(index) {
    if (state.visited.indexOf(index) === -1) {
      state.visited.push(index);
      state.visited.sort(function (a, b) { return a - b; });
    }
  }

  function restore() {
    const data = scorm.readJson(lms.get('cmi.suspend_data'));
    if (data && Array.isArray(data.visited)) {
      data.visited.forEach(function (index) {
        if (Number.isInteger(index) && index >= 0 && index < ui.pages.length) {
          markVisited(index);
        }
      });
    }
    const text = lms.get('cmi.location');
    const index = /^\d+$/.test(text) ? parseInt(text, 10) : NaN;
    return Number.isInteger(index) && index < ui.pages.length ? index : 0;
  }

  function recordPage() {
    if (!lms.active) {
      return;
    }
    const last = ui.pages.length - 1;
    lms.set('cmi.location', String(state.page));
    lms.set('cmi.suspend_data', JSON.stringify({visited: state.visited}));
    if (!state.completed) {
      state.completed = state.page === last;
      lms.set('cmi.completion_status', state.completed ? 'completed' : 'incomplete');
    }
    lms.commit();
  }

  function canContinue() {
    return lms.active && lms.get('adl.nav.request_valid.continue') !== 'false';
  }

  function renderControls() {
    const last = ui.pages.length - 1;
    const atEnd = state.page === last;
    ui.prev.disabled = state.left || state.page === 0;
    ui.next.disabled = state.left || atEnd;
    const offerContinue = atEnd && !state.left && canContinue();
    ui.proceed.hidden = !offerContinue;
    ui.next.hidden = offerContinue;
    ui.exit.disabled = state.left;
  }

  function renderProgress() {
    const total = ui.pages.length;
    ui.progressText.textContent = 'Page ' + (state.page + 1) + ' of ' + total;
    ui.progressFill.style.width = Math.round((state.visited.length / total) * 100) + '%';
    ui.progress.setAttribute('aria-valuemax', String(total));
    ui.progress.setAttribute('aria-valuenow', String(state.visited.length));
  }

  function showPage(index, moveFocus) {
    const last = ui.pages.length - 1;
    state.page = Math.max(0, Math.min(last, index));
    ui.pages.forEach(function (section, i) {
      section.hidden = i !== state.page;
    });
    ui.title.textContent = ui.pages[state.page].getAttribute('data-title');
    document.title = ui.title.textContent + ' · Closing Techniques';
    markVisited(state.page);
    renderProgress();
    if (!state.left) {
      recordPage();
    }
    renderControls();
    if (moveFocus) {
      window.scrollTo(0, 0);
      ui.title.focus();
    }
  }

  // Runs once (the shared session guards it): on pagehide, beforeunload, Exit or Continue.
  function finish() {
    state.left = true;
    if (lms.active) {
      lms.set('cmi.exit', state.completed ? 'normal' : 'suspend');
      if (navRequest) {
        lms.set('adl.nav.request', navRequest);
      }
      lms.terminate();
    }
  }

  function leave(request, message) {
    navRequest = request;
    if (lms.leave()) {
      renderControls();
      showNotice(message);
    }
  }

  function start() {
    ui = collectUi();
    lms = scorm.connect();
    lms.onLeave(finish);
    showNotice(scorm.noticeText(lms));

    let first = 0;
    if (lms.active) {
      state.completed = lms.get('cmi.completion_status') === 'completed';
      if (lms.get('cmi.entry') === 'resume') {
        first = restore();
      }
    }

    ui.prev.addEventListener('click', function () { showPage(state.page - 1, true); });
    ui.next.addEventListener('click', function () { showPage(state.page + 1, true); });
    ui.exit.addEventListener('click', function () {
      leave('', state.completed
        ? 'You have finished the lesson. You can close this window or choose the quiz from the course menu.'
        : 'Your place is saved. You can close this window and pick up where you left off next time.');
    });
    ui.proceed.addEventListener('click', function () {
      leave('continue', 'Lesson complete. Opening the quiz…');
    });

    showPage(first, false);
  }

  scorm.onReady(start);
}());
