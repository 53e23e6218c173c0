// quire site search: reads the static index that `quire build` writes under
// /search/ (format: src/build/search.rs). Without JavaScript the search
// forms ask a web search for pages of this site instead.
(function () {
  'use strict';

  // Every search form goes to the search page instead of the web search.
  document.querySelectorAll('form[data-search-page]').forEach(function (form) {
    form.action = form.getAttribute('data-search-page');
    var sites = form.querySelector('input[name="sites"]');
    if (sites) sites.remove();
  });

  var form = document.querySelector('form[data-index]');
  if (!form || !window.fetch) return;
  var input = form.querySelector('input[name="q"]');
  var status = document.querySelector('[data-search-status]');
  var list = document.querySelector('[data-search-results]');
  var indexUrl = form.getAttribute('data-index');
  var base = indexUrl.slice(0, indexUrl.lastIndexOf('/') + 1);
  var PAGE = 20;
  var MAX_TERM = 40;
  var meta = null;
  var shards = new Map();
  var chunks = new Map();
  var shown = 0;
  var results = [];
  var words = [];
  var generation = 0;

  status.textContent = '';

  function isIdeograph(c) {
    var n = c.codePointAt(0);
    return (n >= 0x3040 && n <= 0x30ff) || (n >= 0x3400 && n <= 0x4dbf) ||
      (n >= 0x4e00 && n <= 0x9fff) || (n >= 0xf900 && n <= 0xfaff);
  }
  var wordChar = /[\p{Alphabetic}\p{N}]/u;

  // The same words as the build makes (search.rs `terms`).
  function terms(text) {
    var out = [];
    var word = '';
    function flush() {
      if (!word) return;
      var term = /^[\x00-\x7f]*$/.test(word) ? word.toLowerCase()
        : word.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
      if (term && Array.from(term).length <= MAX_TERM) out.push(term);
      word = '';
    }
    for (var c of text) {
      if (isIdeograph(c)) { flush(); word = c; flush(); }
      else if (wordChar.test(c)) word += c;
      else flush();
    }
    flush();
    return out;
  }

  var encoder = new TextEncoder();
  function shardOf(term) {
    var prefix = Array.from(term).slice(0, meta.prefix).join('');
    var hash = 0x811c9dc5;
    encoder.encode(prefix).forEach(function (b) {
      hash ^= b;
      hash = Math.imul(hash, 0x01000193);
    });
    return (hash >>> 0) & (meta.shards - 1);
  }

  function get(path, kind) {
    return fetch(base + path + '?v=' + meta.id).then(function (r) {
      if (!r.ok) throw new Error(path + ': ' + r.status);
      return kind === 'json' ? r.json() : r.text();
    });
  }

  function loadMeta() {
    if (meta) return Promise.resolve(meta);
    return fetch(indexUrl, { cache: 'no-cache' }).then(function (r) {
      if (!r.ok) throw new Error('meta.json: ' + r.status);
      return r.json();
    }).then(function (m) {
      if (m.version !== 1) throw new Error('unknown index version ' + m.version);
      meta = m;
      return m;
    });
  }

  // A shard as a sorted list of [term, postings text].
  function shard(n) {
    if (!shards.has(n)) {
      shards.set(n, get('terms-' + n + '.txt').then(function (text) {
        return text.split('\n').filter(Boolean).map(function (line) {
          var tab = line.indexOf('\t');
          return [line.slice(0, tab), line.slice(tab + 1)];
        });
      }));
    }
    return shards.get(n);
  }

  function postings(text, weight, into) {
    var doc = 0;
    text.split(',').forEach(function (entry) {
      var colon = entry.indexOf(':');
      doc += parseInt(colon < 0 ? entry : entry.slice(0, colon), 36);
      var w = colon < 0 ? 1 : parseInt(entry.slice(colon + 1), 36);
      into.set(doc, Math.max(into.get(doc) || 0, w * weight));
    });
  }

  // doc → score for one query word: the term itself, and for the last word
  // (typed so far) every term it begins.
  function matches(word, prefix) {
    return shard(shardOf(word)).then(function (entries) {
      var scores = new Map();
      var docs = 0;
      entries.forEach(function (entry) {
        var term = entry[0];
        if (term === word) {
          postings(entry[1], 2, scores);
        } else if (prefix && term.startsWith(word)) {
          postings(entry[1], 1, scores);
        }
      });
      scores.forEach(function () { docs += 1; });
      var idf = Math.log(1 + meta.docs / Math.max(1, docs));
      scores.forEach(function (s, doc) { scores.set(doc, s * idf); });
      return scores;
    });
  }

  function doc(id) {
    var n = Math.floor(id / meta.chunk);
    if (!chunks.has(n)) chunks.set(n, get('docs-' + n + '.json', 'json'));
    return chunks.get(n).then(function (rows) { return rows[id - n * meta.chunk]; });
  }

  function marked(text, into) {
    // Words of the query in the text are wrapped in <mark>; all as text nodes.
    var pattern = words.filter(function (w) { return w.length > 1; })
      .map(function (w) { return w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'); });
    if (!pattern.length) { into.append(text); return; }
    var re = new RegExp('(' + pattern.join('|') + ')', 'giu');
    var last = 0;
    text.replace(re, function (m, _g, at) {
      into.append(text.slice(last, at));
      var mark = document.createElement('mark');
      mark.textContent = m;
      into.append(mark);
      last = at + m.length;
      return m;
    });
    into.append(text.slice(last));
  }

  function showMore(run) {
    var batch = results.slice(shown, shown + PAGE);
    shown += batch.length;
    return Promise.all(batch.map(function (r) { return doc(r[0]); })).then(function (rows) {
      if (run !== generation) return;
      var old = list.querySelector('.search-more');
      if (old) old.remove();
      rows.forEach(function (row) {
        if (!row) return;
        var li = document.createElement('li');
        var a = document.createElement('a');
        a.href = row[0];
        marked(row[1], a);
        var h = document.createElement('h2');
        h.append(a);
        li.append(h);
        if (row[2]) {
          var time = document.createElement('time');
          time.dateTime = row[2];
          time.textContent = row[2];
          time.className = 'muted';
          li.append(time);
        }
        if (row[3]) {
          var p = document.createElement('p');
          marked(row[3], p);
          li.append(p);
        }
        list.append(li);
      });
      if (shown < results.length) {
        var more = document.createElement('li');
        more.className = 'search-more';
        var button = document.createElement('button');
        button.type = 'button';
        button.textContent = 'Show more results';
        button.addEventListener('click', function () { showMore(generation); });
        more.append(button);
        list.append(more);
      }
    });
  }

  function search(query) {
    var run = ++generation;
    words = terms(query);
    if (!words.length) {
      list.replaceChildren();
      status.textContent = '';
      return Promise.resolve();
    }
    status.textContent = 'Searching…';
    return loadMeta().then(function () {
      return Promise.all(words.map(function (w, i) {
        var last = i === words.length - 1 && !/\s$/.test(query);
        return matches(w, last && Array.from(w).length >= meta.prefix);
      }));
    }).then(function (maps) {
      if (run !== generation) return;
      maps.sort(function (a, b) { return a.size - b.size; });
      var found = [];
      maps[0].forEach(function (score, id) {
        var total = score;
        for (var i = 1; i < maps.length; i++) {
          var s = maps[i].get(id);
          if (s === undefined) return;
          total += s;
        }
        found.push([id, total]);
      });
      found.sort(function (a, b) { return b[1] - a[1] || a[0] - b[0]; });
      results = found;
      shown = 0;
      list.replaceChildren();
      status.textContent = found.length === 0 ? 'No results for “' + query.trim() + '”.'
        : found.length + (found.length === 1 ? ' result' : ' results') + ' for “' + query.trim() + '”.';
      return showMore(run);
    }).catch(function (err) {
      if (run !== generation) return;
      status.textContent = 'Search is not available right now (' + err.message + ').';
    });
  }

  var timer = 0;
  function update() {
    var q = input.value;
    var url = new URL(window.location.href);
    if (q) url.searchParams.set('q', q); else url.searchParams.delete('q');
    window.history.replaceState(null, '', url);
    search(q);
  }
  input.addEventListener('input', function () {
    clearTimeout(timer);
    timer = setTimeout(update, 120);
  });
  form.addEventListener('submit', function (event) {
    event.preventDefault();
    clearTimeout(timer);
    update();
  });
  var initial = new URLSearchParams(window.location.search).get('q');
  if (initial) {
    input.value = initial;
    search(initial);
  }
})();
