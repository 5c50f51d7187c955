// Berth's only script: copy buttons. A button names the element whose text it copies (data-copy-target) or carries
// the text itself (data-copy-value). The page works without it; the commands stay selectable text.
"use strict";
document.addEventListener("click", async (event) => {
  const button = event.target instanceof Element ? event.target.closest("button.copy") : null;
  if (!button) return;
  const target = button.dataset.copyTarget ? document.getElementById(button.dataset.copyTarget) : null;
  const text = target ? target.textContent.trim() : button.dataset.copyValue;
  if (!text || !navigator.clipboard) return;
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = "Copied";
  } catch {
    button.textContent = "Copy failed";
  }
  setTimeout(() => { button.textContent = "Copy"; }, 2000);
});
