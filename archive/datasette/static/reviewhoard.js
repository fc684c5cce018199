// reviewhoard: column descriptions one click away instead of filling the first screen.
// (The stylesheet hides them until they are moved into the <details>.)
for (const list of document.querySelectorAll("dl.column-descriptions")) {
  const toggle = document.createElement("details");
  toggle.className = "column-descriptions-toggle";
  const summary = document.createElement("summary");
  const count = list.querySelectorAll("dt").length;
  summary.textContent = `Column descriptions (${count})`;
  list.replaceWith(toggle);
  toggle.append(summary, list);
}
