// chipex web UI: progressive enhancement only; every page works without it.
"use strict";
(function () {
  // drag and drop a book onto the upload zone
  const zone = document.querySelector("[data-drop]");
  if (zone) {
    const input = zone.querySelector("input[type=file]");
    const name = zone.querySelector("[data-filename]");
    const show = () => { if (name && input.files.length) name.textContent = input.files[0].name; };
    input.addEventListener("change", show);
    ["dragenter", "dragover"].forEach((e) => zone.addEventListener(e, (ev) => { ev.preventDefault(); zone.classList.add("over"); }));
    ["dragleave", "drop"].forEach((e) => zone.addEventListener(e, () => zone.classList.remove("over")));
    zone.addEventListener("drop", (ev) => { ev.preventDefault(); if (ev.dataTransfer.files.length) { input.files = ev.dataTransfer.files; show(); } });
  }
  // a running job: poll its status and reload the page when it ends
  const job = document.querySelector("[data-job-status]");
  if (job && ["queued", "running"].includes(job.dataset.jobStatus)) {
    const bar = job.querySelector("progress");
    const label = job.querySelector("[data-progress-label]");
    const poll = async () => {
      try {
        const r = await fetch(job.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } });
        if (r.ok) {
          const j = await r.json();
          if (j.progress.total) { bar.max = j.progress.total; bar.value = j.progress.done; }
          if (label) label.textContent = `${j.status}: ${j.progress.done} of ${j.progress.total ?? "?"} lines`;
          if (!["queued", "running"].includes(j.status)) { window.location.reload(); return; }
        }
      } catch (e) { /* the server may be restarting: keep polling */ }
      setTimeout(poll, 700);
    };
    setTimeout(poll, 400);
  }
  // filter a table by the text typed in its filter box
  document.querySelectorAll("input[data-filter]").forEach((box) => {
    const rows = document.querySelectorAll(`#${box.dataset.filter} tbody tr`);
    const count = document.querySelector(`[data-count-for=${box.dataset.filter}]`);
    box.addEventListener("input", () => {
      const q = box.value.trim().toLowerCase();
      let shown = 0;
      rows.forEach((tr) => { const hit = !q || tr.textContent.toLowerCase().includes(q); tr.hidden = !hit; if (hit) shown++; });
      if (count) count.textContent = `${shown} shown`;
    });
  });
})();
