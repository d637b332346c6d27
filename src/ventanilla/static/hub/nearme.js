/* Near me, without giving away where you are: the phone finds its position, downloads the published
   directory (the same file for everyone) and measures the distances itself. No request carries the
   position. Without JavaScript or location the area list on the page does the same job. */
(function () {
  "use strict";
  var tpl = document.getElementById("nearme");
  if (!tpl || !tpl.content || !navigator.geolocation || !window.fetch) return;
  tpl.parentNode.insertBefore(tpl.content.cloneNode(true), tpl.nextSibling);
  var d = tpl.dataset;
  var box = tpl.nextElementSibling;
  var button = box.querySelector("button");
  var status = box.querySelector("[role=status]");
  var list = box.querySelector("ol");
  var lang = document.documentElement.lang;

  function rad(x) { return x * Math.PI / 180; }

  function km(lat1, lon1, lat2, lon2) {
    var a = Math.pow(Math.sin(rad(lat2 - lat1) / 2), 2) +
      Math.cos(rad(lat1)) * Math.cos(rad(lat2)) * Math.pow(Math.sin(rad(lon2 - lon1) / 2), 2);
    return 12742.0176 * Math.asin(Math.min(1, Math.sqrt(a)));
  }

  function number(x) {
    try { return new Intl.NumberFormat(lang, { maximumFractionDigits: 1 }).format(x); }
    catch (e) { return x.toFixed(1); }
  }

  function show(data, lat, lon) {
    var select = document.querySelector("select[name=category]");
    var wanted = select ? select.value : "";
    var near = [];
    (data.points || []).forEach(function (p) {
      if (p.lat === null || p.lon === null) return;
      if (wanted && p.c.indexOf(wanted) < 0) return;
      near.push({ p: p, k: km(lat, lon, p.lat, p.lon) });
    });
    near.sort(function (a, b) { return a.k - b.k || (a.p.n < b.p.n ? -1 : 1); });
    list.textContent = "";
    near.slice(0, 10).forEach(function (m) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = d.detail.replace("/0/", "/" + m.p.id + "/");
      a.textContent = m.p.n;
      li.appendChild(a);
      li.appendChild(document.createTextNode(" · " + d.km.replace("%(km)s", number(m.k))));
      list.appendChild(li);
    });
    status.textContent = near.length ? d.found : d.none;
  }

  button.addEventListener("click", function () {
    button.disabled = true;
    status.textContent = d.wait;
    list.textContent = "";
    navigator.geolocation.getCurrentPosition(function (position) {
      var c = position.coords;
      fetch(d.url, { credentials: "omit" })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(function (data) { show(data, c.latitude, c.longitude); })
        .catch(function () { status.textContent = d.failed; })
        .then(function () { button.disabled = false; });
    }, function (error) {
      status.textContent = error.code === 1 ? d.denied : d.failed;
      button.disabled = false;
    }, { timeout: 20000, maximumAge: 600000 });
  });
})();
