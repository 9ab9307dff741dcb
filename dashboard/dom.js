// Building the page from data: elements are made, never parsed from HTML, so nothing the API
// returns (a cluster's message, an actor's name) can become markup.

/**
 * h("a", {href: "#/", class: "x", on: {click: f}}, "text", child, [more, children])
 * Props: `class`, `text`, `on` (event listeners), `dataset`, `style` (CSSOM properties: the
 * Content-Security-Policy allows no style attribute), boolean attributes (true/false),
 * anything else becomes an attribute; null and undefined props and children are skipped.
 */
export function h(tag, props = null, ...children) {
  const element = document.createElement(tag);
  if (props) {
    for (const [name, value] of Object.entries(props)) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") element.className = value;
      else if (name === "text") element.textContent = value;
      else if (name === "on") {
        for (const [event, listener] of Object.entries(value)) {
          element.addEventListener(event, listener);
        }
      } else if (name === "dataset") Object.assign(element.dataset, value);
      else if (name === "style") Object.assign(element.style, value);
      else if (value === true) element.setAttribute(name, "");
      else element.setAttribute(name, String(value));
    }
  }
  append(element, children);
  return element;
}

/** Append children (nodes, strings, numbers, nested arrays) to `parent`. */
export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** Replace everything in `parent` with `children`. */
export function replace(parent, ...children) {
  const fragment = document.createDocumentFragment();
  append(fragment, children);
  parent.replaceChildren(fragment);
  return parent;
}
