// policy lab: tooltips on hover and keyboard focus for [data-tip]; the "as of" slider fills the date
"use strict";
(function () {
  const tip = document.getElementById("tip");
  const show = (el, x, y) => {
    tip.textContent = el.dataset.tip;
    tip.hidden = false;
    const w = tip.offsetWidth, h = tip.offsetHeight;
    tip.style.left = `${Math.max(4, Math.min(x + 12, window.innerWidth - w - 4)) + window.scrollX}px`;
    // above the pointer where there is room, else below it
    tip.style.top = `${(y - h - 12 >= 4 ? y - h - 12 : Math.min(y + 16, window.innerHeight - h - 4)) + window.scrollY}px`;
  };
  document.querySelectorAll("[data-tip]").forEach((el) => {
    el.addEventListener("mousemove", (e) => show(el, e.clientX, e.clientY));
    el.addEventListener("focus", () => { const r = el.getBoundingClientRect(); show(el, r.right, r.top); });
    ["mouseleave", "blur"].forEach((ev) => el.addEventListener(ev, () => { tip.hidden = true; }));
  });
  document.addEventListener("keydown", (e) => { if (e.key === "Escape") tip.hidden = true; });
  const slider = document.getElementById("as-of-step");
  if (slider) {
    const dates = slider.dataset.dates.split(" ");
    const target = document.getElementById(slider.dataset.target);
    const out = document.getElementById("as-of-step-value");
    slider.addEventListener("input", () => { target.value = dates[slider.value]; out.textContent = dates[slider.value]; });
    slider.addEventListener("change", () => slider.form.submit());
  }
})();
