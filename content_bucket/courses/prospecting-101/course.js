/*
 * Prospecting 101: page navigation, quiz and the SCORM 1.2 run-time calls for the course's single SCO.
 * Written for the Onramp starter content. Plain ES2017, no dependencies, no build step.
 *
 * cmi.suspend_data holds {"visited":[0,1],"answers":{"q1":"b"}}: the pages seen and the quiz choices so far.
 * cmi.core.lesson_location holds the index of the current page ("0".."3").
 */
(function () {
  'use strict';

  // The answer key. tests/unit/test_starter_content.py reads this line, so keep it one JSON object.
  const ANSWER_KEY = {"q1": "b", "q2": "d", "q3": "a"};

  const QUESTIONS = Object.keys(ANSWER_KEY).sort();
  const DEFAULT_MASTERY = 80;
  const MAX_PARENT_HOPS = 7;

  // ---------------------------------------------------------------------------------------------
  // Finding the LMS: the same-origin search from the SCORM 1.2 run-time environment.

  function scanForApi(start) {
    let win = start;
    let hops = 0;
    try {
      while (win && !win.API && win.parent && win.parent !== win && hops < MAX_PARENT_HOPS) {
        hops += 1;
        win = win.parent;
      }
      return win && win.API ? win.API : null;
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

  // ---------------------------------------------------------------------------------------------
  // A small, forgiving wrapper: every call is guarded, so a misbehaving LMS never stops the learner reading.

  const lms = {
    api: null,
    active: false,

    call(name, args) {
      if (!this.api || typeof this.api[name] !== 'function') {
        return '';
      }
      try {
        const value = this.api[name].apply(this.api, args);
        return value === null || value === undefined ? '' : String(value);
      } catch (err) {
        if (window.console) {
          window.console.warn('SCORM ' + name + ' threw', err);
        }
        return '';
      }
    },

    ok(result, name, key) {
      if (result === 'true') {
        return true;
      }
      const code = this.call('LMSGetLastError', []);
      if (window.console && code && code !== '0') {
        window.console.warn('SCORM ' + name + (key ? ' ' + key : '') + ' failed with error ' + code);
      }
      return false;
    },

    initialize() {
      this.active = this.ok(this.call('LMSInitialize', ['']), 'LMSInitialize');
      return this.active;
    },

    get(key) {
      return this.active ? this.call('LMSGetValue', [key]) : '';
    },

    set(key, value) {
      return this.active ? this.ok(this.call('LMSSetValue', [key, String(value)]), 'LMSSetValue', key) : false;
    },

    commit() {
      return this.active ? this.ok(this.call('LMSCommit', ['']), 'LMSCommit') : false;
    },

    finish() {
      if (!this.active) {
        return false;
      }
      this.active = false;
      return this.ok(this.call('LMSFinish', ['']), 'LMSFinish');
    }
  };

  // ---------------------------------------------------------------------------------------------
  // Session time as a SCORM 1.2 CMITimespan: HHHH:MM:SS.SS

  const startedAt = Date.now();

  function pad(value, width) {
    let text = String(value);
    while (text.length < width) {
      text = '0' + text;
    }
    return text;
  }

  function cmiTimespan(ms) {
    let centis = Math.max(0, Math.round(ms / 10));
    const hours = Math.min(9999, Math.floor(centis / 360000));
    centis -= hours * 360000;
    const minutes = Math.min(59, Math.floor(centis / 6000));
    centis -= minutes * 6000;
    const seconds = Math.min(59, Math.floor(centis / 100));
    centis = Math.min(99, centis - seconds * 100);
    return pad(hours, 4) + ':' + pad(minutes, 2) + ':' + pad(seconds, 2) + '.' + pad(centis, 2);
  }

  function sessionTime() {
    return cmiTimespan(Date.now() - startedAt);
  }

  // ---------------------------------------------------------------------------------------------
  // State and DOM

  const state = {
    page: 0,
    visited: [],
    answers: {},
    status: '',
    mastery: DEFAULT_MASTERY,
    finished: false
  };

  let ui = null;

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
      notice: byId('notice'),
      progress: byId('progress'),
      progressFill: byId('progress-fill'),
      progressText: byId('progress-text'),
      quiz: byId('quiz'),
      submit: byId('submit-quiz'),
      retry: byId('retry'),
      message: byId('quiz-message'),
      result: byId('result'),
      mastery: byId('mastery')
    };
  }

  function isDecided(status) {
    return status === 'passed' || status === 'failed';
  }

  function showNotice(text) {
    ui.notice.textContent = text;
    ui.notice.hidden = false;
  }

  function markVisited(index) {
    if (state.visited.indexOf(index) === -1) {
      state.visited.push(index);
      state.visited.sort(function (a, b) { return a - b; });
    }
  }

  function suspendData() {
    return JSON.stringify({visited: state.visited, answers: state.answers});
  }

  function restoreSuspendData(text) {
    if (!text) {
      return;
    }
    let data = null;
    try {
      data = JSON.parse(text);
    } catch (err) {
      return; // not ours, or damaged: start clean rather than fail
    }
    if (!data || typeof data !== 'object') {
      return;
    }
    if (Array.isArray(data.visited)) {
      data.visited.forEach(function (index) {
        if (Number.isInteger(index) && index >= 0 && index < ui.pages.length) {
          markVisited(index);
        }
      });
    }
    if (data.answers && typeof data.answers === 'object') {
      QUESTIONS.forEach(function (q) {
        const value = data.answers[q];
        if (typeof value === 'string' && /^[a-d]$/.test(value)) {
          state.answers[q] = value;
        }
      });
    }
  }

  function commit() {
    lms.set('cmi.core.session_time', sessionTime());
    return lms.commit();
  }

  // ---------------------------------------------------------------------------------------------
  // Pages

  function renderProgress() {
    const total = ui.pages.length;
    ui.progressText.textContent = 'Page ' + (state.page + 1) + ' of ' + total;
    ui.progressFill.style.width = Math.round((state.visited.length / total) * 100) + '%';
    ui.progress.setAttribute('aria-valuemax', String(total));
    ui.progress.setAttribute('aria-valuenow', String(state.visited.length));
  }

  function recordPage() {
    if (!lms.active) {
      return;
    }
    lms.set('cmi.core.lesson_location', String(state.page));
    lms.set('cmi.suspend_data', suspendData());
    if (!isDecided(state.status)) {
      lms.set('cmi.core.lesson_status', 'incomplete');
      state.status = 'incomplete';
    }
    commit();
  }

  function showPage(index, moveFocus) {
    const last = ui.pages.length - 1;
    state.page = Math.max(0, Math.min(last, index));
    ui.pages.forEach(function (section, i) {
      section.hidden = i !== state.page;
    });
    ui.title.textContent = ui.pages[state.page].getAttribute('data-title');
    document.title = ui.title.textContent + ' · Prospecting 101';
    ui.prev.disabled = state.finished || state.page === 0;
    ui.next.disabled = state.finished || state.page === last;
    markVisited(state.page);
    renderProgress();
    if (!state.finished) {
      recordPage();
    }
    if (moveFocus) {
      window.scrollTo(0, 0);
      ui.title.focus();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Quiz

  function radios(q) {
    return Array.prototype.slice.call(ui.quiz.querySelectorAll('input[name="' + q + '"]'));
  }

  function selected(q) {
    const checked = radios(q).filter(function (input) { return input.checked; });
    return checked.length ? checked[0].value : '';
  }

  function restoreAnswers() {
    QUESTIONS.forEach(function (q) {
      radios(q).forEach(function (input) {
        input.checked = input.value === state.answers[q];
      });
    });
  }

  function setQuizLocked(locked) {
    QUESTIONS.forEach(function (q) {
      radios(q).forEach(function (input) {
        input.disabled = locked;
      });
    });
    ui.submit.disabled = locked;
  }

  function clearFeedback() {
    QUESTIONS.forEach(function (q) {
      const box = byId('question-' + q);
      box.classList.remove('is-correct', 'is-wrong');
      box.querySelector('.feedback').hidden = true;
    });
  }

  function showFeedback(q, correct) {
    const box = byId('question-' + q);
    box.classList.add(correct ? 'is-correct' : 'is-wrong');
    const feedback = box.querySelector('.feedback');
    feedback.hidden = false;
    feedback.setAttribute('data-verdict', correct ? 'correct' : 'wrong');
    if (!feedback.getAttribute('data-text')) {
      feedback.setAttribute('data-text', feedback.textContent.replace(/\s+/g, ' ').trim());
    }
    feedback.textContent = (correct ? 'Correct. ' : 'Not quite. ') + feedback.getAttribute('data-text');
  }

  function showResult(score, passed, note) {
    ui.result.className = 'result ' + (passed ? 'is-passed' : 'is-failed');
    ui.result.textContent = '';
    const headline = document.createElement('strong');
    headline.textContent = 'Score: ' + score + '% · ' + (passed ? 'Passed.' : 'Not passed.');
    const detail = document.createElement('p');
    detail.textContent = note;
    ui.result.appendChild(headline);
    ui.result.appendChild(document.createTextNode(' ')); // so the text reads "... Passed. 3 of 3 correct."
    ui.result.appendChild(detail);
    ui.result.hidden = false;
  }

  function interactionBase() {
    const count = parseInt(lms.get('cmi.interactions._count'), 10);
    return Number.isInteger(count) && count >= 0 ? count : 0;
  }

  function recordInteractions(responses) {
    const base = interactionBase();
    responses.forEach(function (item, i) {
      const prefix = 'cmi.interactions.' + (base + i) + '.';
      lms.set(prefix + 'id', item.id);
      lms.set(prefix + 'type', 'choice');
      lms.set(prefix + 'student_response', item.response);
      lms.set(prefix + 'correct_responses.0.pattern', item.pattern);
      lms.set(prefix + 'result', item.correct ? 'correct' : 'wrong');
    });
  }

  function submitQuiz(event) {
    event.preventDefault();
    if (state.finished) {
      return;
    }
    const missing = QUESTIONS.filter(function (q) { return !selected(q); });
    if (missing.length) {
      ui.message.textContent = 'Please answer all ' + QUESTIONS.length + ' questions before you submit.';
      return;
    }
    ui.message.textContent = '';
    clearFeedback();
    const responses = QUESTIONS.map(function (q) {
      const response = selected(q);
      state.answers[q] = response;
      return {id: q, response: response, pattern: ANSWER_KEY[q], correct: response === ANSWER_KEY[q]};
    });
    const correct = responses.filter(function (item) { return item.correct; }).length;
    const score = Math.round((correct / QUESTIONS.length) * 100);
    const passed = score >= state.mastery;
    state.status = passed ? 'passed' : 'failed';

    if (lms.active) {
      lms.set('cmi.core.score.min', '0');
      lms.set('cmi.core.score.max', '100');
      lms.set('cmi.core.score.raw', String(score));
      lms.set('cmi.core.lesson_status', state.status);
      recordInteractions(responses);
      lms.set('cmi.suspend_data', suspendData());
      lms.set('cmi.core.exit', '');
      commit();
    }

    responses.forEach(function (item) { showFeedback(item.id, item.correct); });
    setQuizLocked(true);
    ui.retry.hidden = passed;
    const summary = correct + ' of ' + QUESTIONS.length + ' correct. ';
    showResult(score, passed, summary + (passed
      ? 'Well done: your result has been recorded.'
      : 'You need ' + state.mastery + '% to pass. Review the feedback, revisit the lessons and try again.'));
    ui.result.focus();
  }

  function retryQuiz() {
    QUESTIONS.forEach(function (q) {
      radios(q).forEach(function (input) { input.checked = false; });
    });
    state.answers = {};
    clearFeedback();
    setQuizLocked(false);
    ui.retry.hidden = true;
    ui.result.hidden = true;
    ui.message.textContent = '';
    lms.set('cmi.suspend_data', suspendData());
    const first = radios(QUESTIONS[0])[0];
    if (first) {
      first.focus();
    }
  }

  function rememberAnswer(event) {
    const input = event.target;
    if (input && input.type === 'radio' && ANSWER_KEY.hasOwnProperty(input.name)) {
      state.answers[input.name] = input.value;
      lms.set('cmi.suspend_data', suspendData());
    }
  }

  function showPreviousResult() {
    const raw = parseFloat(lms.get('cmi.core.score.raw'));
    if (!isDecided(state.status) || !isFinite(raw)) {
      return;
    }
    const passed = state.status === 'passed';
    showResult(Math.round(raw), passed, passed
      ? 'Your earlier result: you have already passed this quiz.'
      : 'Your earlier result. You need ' + state.mastery + '% to pass; take the quiz again when you are ready.');
    setQuizLocked(passed); // a pass stands; a learner who failed may try again
  }

  // ---------------------------------------------------------------------------------------------
  // Leaving

  function finish() {
    if (state.finished) {
      return;
    }
    state.finished = true;
    if (lms.active) {
      if (!isDecided(state.status)) {
        lms.set('cmi.core.exit', 'suspend');
      }
      lms.set('cmi.core.session_time', sessionTime());
      lms.finish();
    }
  }

  function exitCourse() {
    finish();
    ui.prev.disabled = true;
    ui.next.disabled = true;
    ui.exit.disabled = true;
    setQuizLocked(true);
    ui.retry.hidden = true;
    showNotice(isDecided(state.status)
      ? 'You have left the course and your result is saved. You can close this window.'
      : 'Your place is saved. You can close this window and pick up where you left off next time.');
  }

  // ---------------------------------------------------------------------------------------------
  // Start

  function readMastery() {
    const value = parseFloat(lms.get('cmi.student_data.mastery_score'));
    return isFinite(value) && value >= 0 && value <= 100 ? value : DEFAULT_MASTERY;
  }

  function startPage(entry) {
    if (entry === 'ab-initio') {
      return 0;
    }
    const text = lms.get('cmi.core.lesson_location');
    const index = /^\d+$/.test(text) ? parseInt(text, 10) : NaN;
    return Number.isInteger(index) && index < ui.pages.length ? index : 0;
  }

  function start() {
    ui = collectUi();
    lms.api = findApi();
    let first = 0;
    if (!lms.api) {
      showNotice('No learning system was found, so your progress will not be saved. You can still read the course.');
    } else if (!lms.initialize()) {
      showNotice('The learning system did not start a session, so your progress will not be saved. '
        + 'You can still read the course.');
    } else {
      const entry = lms.get('cmi.core.entry');
      state.status = lms.get('cmi.core.lesson_status');
      state.mastery = readMastery();
      if (entry !== 'ab-initio') {
        restoreSuspendData(lms.get('cmi.suspend_data'));
      }
      first = startPage(entry);
    }
    ui.mastery.textContent = String(state.mastery);
    restoreAnswers();
    showPreviousResult();

    ui.prev.addEventListener('click', function () { showPage(state.page - 1, true); });
    ui.next.addEventListener('click', function () { showPage(state.page + 1, true); });
    ui.exit.addEventListener('click', exitCourse);
    ui.quiz.addEventListener('submit', submitQuiz);
    ui.quiz.addEventListener('change', rememberAnswer);
    ui.retry.addEventListener('click', retryQuiz);
    ui.result.setAttribute('tabindex', '-1');

    window.addEventListener('pagehide', finish);
    window.addEventListener('beforeunload', finish);
    window.addEventListener('pageshow', function (event) {
      if (event.persisted && state.finished) {
        exitCourse();
      }
    });

    showPage(first, false);
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
}());
