// The placementd status page: one HTML document, no external assets. Its script fetches
// /status.json (StatusTracker::StatusJson) every second and rebuilds the tables. Rows carry ids
// (server-ID, group-ID) and a group's leader cell the class "leader", which tests read.
#include <string>

#include "placement/status_page.h"

namespace meridian::placement {

const std::string& StatusPageHtml() {
  static const std::string* const html = new std::string(R"html(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Meridian placement</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; margin: 0 0 .2em; }
h2 { font-size: 1.1em; margin: 1.2em 0 .4em; }
table { border-collapse: collapse; }
th, td { padding: .2em .8em; text-align: left; border-bottom: 1px solid #ddd; }
th { background: #f3f3f3; }
.up { color: #176b2c; font-weight: 600; }
.down, .removed, .storage_failed { color: #b00020; font-weight: 600; }
.draining { color: #a05a00; font-weight: 600; }
.zone { display: inline-block; border: 1px solid #ccc; border-radius: 6px; padding: .4em .8em;
        margin: 0 .6em .6em 0; vertical-align: top; }
.muted { color: #777; }
#error { color: #b00020; }
.cols { display: flex; gap: 2em; flex-wrap: wrap; align-items: flex-start; }
</style>
</head>
<body>
<h1>Meridian placement</h1>
<div id="summary" class="muted">loading /status.json ...</div>
<div id="error"></div>
<h2>Zones</h2><div id="zones"></div>
<div class="cols">
<div><h2>Servers</h2><table id="servers"></table></div>
<div><h2>Groups</h2><table id="groups"></table></div>
</div>
<div class="cols">
<div><h2>Moves in progress</h2><table id="moves"></table></div>
<div><h2>Recent events (newest first)</h2><table id="events"></table></div>
</div>
<h2>Ranges</h2><table id="ranges"></table>
<script>
function esc(v) {
  return String(v).replace(/[&<>"]/g, c => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;'})[c]);
}
function table(id, head, rows) {
  const h = '<tr>' + head.map(x => '<th>' + esc(x) + '</th>').join('') + '</tr>';
  document.getElementById(id).innerHTML = h + (rows.length ? rows.join('') :
      '<tr><td class="muted" colspan="' + head.length + '">none</td></tr>');
}
function time(us) { return new Date(us / 1000).toLocaleTimeString(); }
function render(s) {
  document.getElementById('summary').textContent =
      (s.leading ? 'this replica leads placement' : 'a follower (leader: ' + s.placement_leader + ')') +
      (s.bootstrapped ? '' : ', not bootstrapped yet') + '; updated ' + time(s.observed_us);
  document.getElementById('zones').innerHTML = s.zones.map(z => '<div class="zone"><b>' + esc(z) +
      '</b><br>' + s.servers.filter(x => x.zone == z).map(x => '<span class="' + x.state + '">' +
      'server ' + x.id + '</span>').join('<br>') + '</div>').join('');
  table('servers', ['id', 'zone', 'address', 'state', 'replicas', 'leads'], s.servers.map(x =>
      '<tr id="server-' + x.id + '"><td>' + x.id + '</td><td>' + esc(x.zone) + '</td><td>' +
      esc(x.address) + '</td><td class="' + x.state + '">' + x.state + '</td><td>' + x.replicas +
      '</td><td>' + x.leads + '</td></tr>'));
  table('groups', ['group', 'leader', 'replicas', 'ranges', 'bytes', 'fenced'], s.groups.map(g =>
      '<tr id="group-' + g.id + '"><td>' + g.id + '</td><td class="leader">' +
      (g.leader ? 'server ' + g.leader : '<span class="down">none</span>') +
      '</td><td>' + g.replicas.join(', ') + '</td><td>' + g.ranges + '</td><td>' + g.bytes +
      '</td><td class="down">' + g.fenced.map(f => 'server ' + f.server + ': ' + esc(f.reason))
      .join('<br>') + '</td></tr>'));
  table('ranges', ['range', 'group', 'generation'], s.ranges.map(r => '<tr><td>' + esc(r.range) +
      '</td><td>' + r.group + '</td><td>' + r.generation + '</td></tr>'));
  table('moves', ['id', 'what', 'phase'], s.moves.map(m => '<tr><td>' + m.id + '</td><td>' +
      esc(m.what) + '</td><td>' + esc(m.phase) + (m.switched ? ' (switched)' : '') + '</td></tr>'));
  table('events', ['time', 'kind', 'event'], s.events.slice(0, 25).map(e => '<tr><td>' + time(e.at_us) +
      '</td><td>' + esc(e.kind) + '</td><td>' + esc(e.text) + '</td></tr>'));
}
async function refresh() {
  try {
    const response = await fetch('/status.json', {cache: 'no-store'});
    render(await response.json());
    document.getElementById('error').textContent = '';
  } catch (e) {
    document.getElementById('error').textContent = 'cannot reach placementd: ' + e;
  }
}
refresh();
setInterval(refresh, 1000);
</script>
</body>
</html>
)html");
  return *html;
}

}  // namespace meridian::placement
