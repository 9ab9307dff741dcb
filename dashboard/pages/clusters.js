// A rollout's clusters as tiles grouped by site, each coloured by its state and labelled with
// it (name, state; reason and message in its title and in the detail). Each refresh changes
// only the tiles whose state changed, so thousands of clusters cost little.

import { h, replace } from "../dom.js";
import { label, tone } from "../states.js";

const NO_SITE = "(no site)";

export class ClusterGrid {
  constructor(rolloutId) {
    this.rolloutId = rolloutId;
    this.element = h("div", { class: "sites" });
    this.tiles = new Map();
    this.layout = "";
    this.selected = null;
  }

  /** Show `clusters` ({id, name, site, state, reason, message, wave}), in place when it can. */
  show(clusters) {
    const layout = clusters.map((c) => `${c.site || ""}/${c.id}`).join("\n");
    if (layout !== this.layout) {
      this.build(clusters);
      this.layout = layout;
      return;
    }
    for (const cluster of clusters) {
      const tile = this.tiles.get(cluster.id);
      const key = `${cluster.state}|${cluster.reason}|${cluster.message}`;
      if (tile && tile.key !== key) this.paint(tile, cluster, key);
    }
  }

  build(clusters) {
    const sites = new Map();
    for (const cluster of clusters) {
      const site = cluster.site || NO_SITE;
      if (!sites.has(site)) sites.set(site, []);
      sites.get(site).push(cluster);
    }
    this.tiles.clear();
    const groups = [...sites.keys()].sort().map((site) => {
      const members = sites.get(site);
      const list = h("ul", { class: "tiles" });
      for (const cluster of members) {
        const state = h("span", { class: "state" });
        const link = h("a", { class: "tile", href: this.href(cluster.name) }, h("span", { class: "name" }, cluster.name), state);
        const tile = { link, state, key: "" };
        this.paint(tile, cluster, `${cluster.state}|${cluster.reason}|${cluster.message}`);
        this.tiles.set(cluster.id, tile);
        list.append(h("li", null, link));
      }
      const id = `site-${site.replace(/[^A-Za-z0-9_-]/g, "_")}`;
      return h(
        "section",
        { class: "site", "aria-labelledby": id },
        h("h3", { id }, `${site} `, h("span", { class: "quiet" }, `(${members.length})`)),
        list,
      );
    });
    replace(this.element, groups);
    this.select(this.selected);
  }

  paint(tile, cluster, key) {
    tile.key = key;
    tile.link.className = `tile tone-${tone(cluster.state)}${tile.link.classList.contains("selected") ? " selected" : ""}`;
    tile.state.textContent = label(cluster.state);
    const why = [cluster.wave && `wave ${cluster.wave}`, cluster.reason, cluster.message].filter(Boolean);
    tile.link.title = why.join(" — ");
    tile.link.dataset.state = cluster.state;
  }

  href(name) {
    return `#/rollouts/${encodeURIComponent(this.rolloutId)}/clusters/${encodeURIComponent(name)}`;
  }

  /** Mark the tile of the cluster named `name` (none: null). */
  select(name) {
    this.selected = name;
    for (const tile of this.tiles.values()) {
      const chosen = name !== null && tile.link.firstChild.textContent === name;
      tile.link.classList.toggle("selected", chosen);
      if (chosen) tile.link.setAttribute("aria-current", "true");
      else tile.link.removeAttribute("aria-current");
    }
  }
}
