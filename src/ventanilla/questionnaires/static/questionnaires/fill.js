// A questionnaire page is redrawn (htmx) from the answers sent with each change. When the person goes
// on typing while such a redraw is on its way, the reply would put back the fields as they were when
// it was asked for and lose what was typed since: that reply is dropped and the redraw asked again.
(function () {
  "use strict";
  var edits = 0;
  function isQuestionnaire(element) {
    return element && element.id === "questionnaire";
  }
  document.addEventListener("input", function (event) {
    if (event.target.closest && event.target.closest("#questionnaire")) {
      edits += 1;
    }
  });
  document.addEventListener("htmx:configRequest", function (event) {
    if (isQuestionnaire(event.detail.elt)) {
      event.detail.elt.dataset.editsSent = String(edits);
    }
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    var form = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (isQuestionnaire(form) && form.dataset.editsSent !== String(edits)) {
      event.detail.shouldSwap = false;
      window.htmx.trigger(form, "change");
    }
  });
})();
