/*
 * Closing Techniques, quiz SCO: three multiple-choice questions, scoring and interactions (SCORM 2004 4th Edition).
 * Written for the Onramp starter content. Needs ../shared/scorm2004.js.
 *
 * cmi.suspend_data holds {"answers":{"q1":"c"}} so a learner who leaves mid-quiz gets their choices back.
 * The pass mark comes from cmi.scaled_passing_score (the manifest's minNormalizedMeasure), else 0.8.
 */
(function () {
  'use strict';

  // The answer key. tests/unit/test_starter_content.py reads this line, so keep it one JSON object.
  const ANSWER_KEY = {"q1": "c", "q2": "b", "q3": "d"};

  const QUESTIONS = Object.keys(ANSWER_KEY).sort();
  const DEFAULT_PASSING = 0.8;

  const scorm = window.OnrampScorm2004;

  const state = {
    answers: {},
    passing: DEFAULT_PASSING,
    success: 'unknown',
    completed: false,
    left: false
  };

  let lms = null;
  let ui = null;

  function byId(id) {
    return document.getElementById(id);
  }

  function collectUi() {
    return {
      title: byId('page-title'),
      exit: byId('exit'),
      notice: byId('notice'),
      quiz: byId('quiz'),
      submit: byId('submit-quiz'),
      retry: byId('retry'),
      message: byId('quiz-message'),
      result: byId('result'),
      mastery: byId('mastery')
    };
  }

  function showNotice(text) {
    ui.notice.textContent = text;
    ui.notice.hidden = !text;
  }

  function isDecided(status) {
    return status === 'passed' || status === 'failed';
  }

  function radios(q) {
    return Array.prototype.slice.call(ui.quiz.querySelectorAll('input[name="' + q + '"]'));
  }

  function selected(q) {
    const checked = radios(q).filter(function (input) { return input.checked; });
    return checked.length ? checked[0].value : '';
  }

  function saveAnswers() {
    lms.set('cmi.suspend_data', JSON.stringify({answers: state.answers}));
  }

  function restoreAnswers() {
    const data = scorm.readJson(lms.get('cmi.suspend_data'));
    if (!data || !data.answers || typeof data.answers !== 'object') {
      return;
    }
    QUESTIONS.forEach(function (q) {
      const value = data.answers[q];
      if (typeof value === 'string' && /^[a-d]$/.test(value)) {
        state.answers[q] = value;
        radios(q).forEach(function (input) { input.checked = input.value === value; });
      }
    });
  }

  function setQuizLocked(locked) {
    QUESTIONS.forEach(function (q) {
      radios(q).forEach(function (input) { input.disabled = locked; });
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
    feedback.setAttribute('data-verdict', correct ? 'correct' : 'incorrect');
    if (!feedback.getAttribute('data-text')) {
      feedback.setAttribute('data-text', feedback.textContent.replace(/\s+/g, ' ').trim());
    }
    feedback.textContent = (correct ? 'Correct. ' : 'Not quite. ') + feedback.getAttribute('data-text');
  }

  function showResult(percent, passed, note) {
    ui.result.className = 'result ' + (passed ? 'is-passed' : 'is-failed');
    ui.result.textContent = '';
    const headline = document.createElement('strong');
    headline.textContent = 'Score: ' + percent + '% · ' + (passed ? 'Passed.' : 'Not passed.');
    const detail = document.createElement('p');
    detail.textContent = note;
    ui.result.appendChild(headline);
    ui.result.appendChild(document.createTextNode(' ')); // so the text reads "... Passed. 3 of 3 correct."
    ui.result.appendChild(detail);
    ui.result.hidden = false;
  }

  function passMarkPercent() {
    return Math.round(state.passing * 100);
  }

  function recordInteractions(responses) {
    const count = parseInt(lms.get('cmi.interactions._count'), 10);
    const base = Number.isInteger(count) && count >= 0 ? count : 0;
    responses.forEach(function (item, i) {
      const prefix = 'cmi.interactions.' + (base + i) + '.';
      lms.set(prefix + 'id', item.id);
      lms.set(prefix + 'type', 'choice');
      lms.set(prefix + 'learner_response', item.response);
      lms.set(prefix + 'correct_responses.0.pattern', item.pattern);
      lms.set(prefix + 'result', item.correct ? 'correct' : 'incorrect');
    });
  }

  function submitQuiz(event) {
    event.preventDefault();
    if (state.left) {
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
    const ratio = correct / QUESTIONS.length;
    const percent = Math.round(ratio * 100);
    const passed = ratio >= state.passing - 1e-9;
    state.success = passed ? 'passed' : 'failed';
    state.completed = true;

    if (lms.active) {
      lms.set('cmi.score.scaled', String(Math.round(ratio * 10000) / 10000));
      lms.set('cmi.score.raw', String(percent));
      lms.set('cmi.score.min', '0');
      lms.set('cmi.score.max', '100');
      lms.set('cmi.success_status', state.success);
      lms.set('cmi.completion_status', 'completed');
      recordInteractions(responses);
      saveAnswers();
      lms.commit();
    }

    responses.forEach(function (item) { showFeedback(item.id, item.correct); });
    setQuizLocked(true);
    ui.retry.hidden = passed;
    const summary = correct + ' of ' + QUESTIONS.length + ' correct. ';
    showResult(percent, passed, summary + (passed
      ? 'Well done: your result has been recorded.'
      : 'You need ' + passMarkPercent() + '% to pass. Review the feedback, revisit the lesson and try again.'));
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
    saveAnswers();
    const first = radios(QUESTIONS[0])[0];
    if (first) {
      first.focus();
    }
  }

  function rememberAnswer(event) {
    const input = event.target;
    if (input && input.type === 'radio' && ANSWER_KEY.hasOwnProperty(input.name)) {
      state.answers[input.name] = input.value;
      saveAnswers();
    }
  }

  function showPreviousResult() {
    const scaled = parseFloat(lms.get('cmi.score.scaled'));
    if (!isDecided(state.success) || !isFinite(scaled)) {
      return;
    }
    const passed = state.success === 'passed';
    showResult(Math.round(scaled * 100), passed, passed
      ? 'Your earlier result: you have already passed this quiz.'
      : 'Your earlier result. You need ' + passMarkPercent() + '% to pass; take the quiz again when you are ready.');
    setQuizLocked(passed); // a pass stands; a learner who failed may try again
  }

  // Runs once (the shared session guards it): on pagehide, beforeunload or Exit.
  function finish() {
    state.left = true;
    if (lms.active) {
      lms.set('cmi.exit', state.completed ? 'normal' : 'suspend');
      lms.terminate();
    }
  }

  function readPassing() {
    const value = parseFloat(lms.get('cmi.scaled_passing_score'));
    return isFinite(value) && value >= -1 && value <= 1 ? value : DEFAULT_PASSING;
  }

  function start() {
    ui = collectUi();
    lms = scorm.connect();
    lms.onLeave(finish);
    showNotice(scorm.noticeText(lms));

    if (lms.active) {
      state.passing = readPassing();
      state.success = lms.get('cmi.success_status');
      state.completed = lms.get('cmi.completion_status') === 'completed';
      if (lms.get('cmi.entry') === 'resume') {
        restoreAnswers();
      }
      showPreviousResult();
      if (!state.completed) {
        lms.set('cmi.completion_status', 'incomplete');
        lms.commit();
      }
    }
    ui.mastery.textContent = String(passMarkPercent());

    ui.quiz.addEventListener('submit', submitQuiz);
    ui.quiz.addEventListener('change', rememberAnswer);
    ui.retry.addEventListener('click', retryQuiz);
    ui.exit.addEventListener('click', function () {
      if (lms.leave()) {
        setQuizLocked(true);
        ui.retry.hidden = true;
        ui.exit.disabled = true;
        showNotice(state.completed
          ? 'You have left the quiz and your result is saved. You can close this window.'
          : 'Your answers are saved. You can close this window and finish the quiz next time.');
      }
    });
  }

  scorm.onReady(start);
}());
