// Browser script of GET /dashboard: fetches /dashboard/data, draws uPlot charts, refreshes periodically.
;(() => {
  const TOKEN_KEY = 'flotilla.analytics.token'
  const COLORS = ['#6ea8fe', '#3ecf8e', '#f5b84b', '#ff6b6b', '#a78bfa', '#2dd4bf', '#8b97bd']
  const params = new URLSearchParams(location.search)
  const refreshMs = Math.max(1000, Number(params.get('refresh')) || 5000)
  const tenantId = params.get('tenantId')

  // A token may arrive in the fragment (never sent to servers or logs); keep it for this tab only.
  const hash = new URLSearchParams(location.hash.slice(1))
  if (hash.get('token')) {
    sessionStorage.setItem(TOKEN_KEY, hash.get('token'))
    history.replaceState(null, '', location.pathname + location.search)
  }
  const token = sessionStorage.getItem(TOKEN_KEY)

  const $ = (id) => document.getElementById(id)
  const fmt = new Intl.NumberFormat()
  const num = (n) => (n === null || n === undefined ? '–' : fmt.format(n))
  const text = (id, value) => {
    $(id).textContent = value
  }
  const el = (tag, attrs, children) => {
    const node = document.createElement(tag)
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v)
    for (const c of children || []) node.append(c)
    return node
  }

  const charts = {}
  const axis = {
    stroke: '#8b97bd',
    grid: { stroke: '#24304f', width: 1 },
    ticks: { stroke: '#24304f', width: 1 },
  }

  const draw = (id, chart, kind) => {
    const box = $(id)
    const names = chart.series.map((s) => s.name).join('|')
    const data = [chart.times, ...chart.series.map((s) => s.values)]
    const width = Math.max(300, box.clientWidth)
    const step = chart.times.length > 1 ? chart.times[1] - chart.times[0] : 60
    const existing = charts[id]
    if (existing && existing.names === names) {
      existing.plot.setData(data)
    } else {
      if (existing) existing.plot.destroy()
      const series = chart.series.map((s, i) => {
        const color = COLORS[i % COLORS.length]
        return {
          label: s.name,
          stroke: color,
          width: 2,
          fill: `${color}22`,
          points: { show: false },
          ...(kind === 'bars' ? { paths: uPlot.paths.bars({ size: [0.7, 40] }), fill: `${color}99` } : {}),
        }
      })
      const plot = new uPlot(
        {
          width,
          height: 240,
          series: [{}, ...series],
          axes: [axis, { ...axis, size: 50 }],
          scales: {
            // Bars need half a step of room on each side, or the first and last are cut in half.
            x: {
              time: true,
              range: (_u, min, max) => (kind === 'bars' ? [min - step / 2, max + step / 2] : [min, max]),
            },
            y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] },
          },
          legend: { live: false },
          cursor: { drag: { x: false, y: false } },
        },
        data,
        box,
      )
      charts[id] = { plot, names }
    }
    const total = chart.series.reduce((n, s) => n + s.values.reduce((a, b) => a + b, 0), 0)
    box.dataset.total = String(total)
  }

  const render = (d) => {
    text('tenant', d.tenantId === null ? 'all tenants' : `tenant ${d.tenantId}`)
    text('k-hour', num(d.totals.lastHour))
    text('k-rate', `${num(d.totals.perMinute)} / min`)
    text('k-day', num(d.totals.lastDay))
    text('k-types', `${d.topTypes.length} event types`)
    text('k-u-hour', num(d.uniques.thisHour))
    text('k-u-day', num(d.uniques.lastDay))
    text('k-p95', d.durations.p95 === null ? '–' : `${num(d.durations.p95)} ms`)
    text(
      'k-p50',
      d.durations.p50 === null
        ? 'no durationMs yet'
        : `p50 ${num(d.durations.p50)} ms · p99 ${num(d.durations.p99)} ms`,
    )
    const dlq = d.pipeline.reduce((n, g) => n + g.deadLetters, 0)
    const lag = d.pipeline.reduce((n, g) => n + (g.lag || 0), 0)
    text('k-dlq', num(dlq))
    text('k-lag', `total lag ${num(lag)}`)

    draw('chart-hour', d.lastHour, 'lines')
    draw('chart-day', d.lastDay, 'lines')
    draw('chart-uniques', d.uniques.hourly, 'bars')

    const max = Math.max(1, ...d.topTypes.map((t) => t.count))
    $('top').replaceChildren(
      ...(d.topTypes.length === 0 ? [el('div', { class: 'muted' }, ['no events yet'])] : []),
      ...d.topTypes.map((t) => {
        const fill = el('div', { class: 'fill' })
        fill.style.width = `${Math.max(2, (t.count / max) * 100)}%`
        return el('div', { class: 'row' }, [
          el('span', {}, [t.name]),
          el('span', { class: 'muted' }, [num(t.count)]),
          el('div', { class: 'track' }, [fill]),
        ])
      }),
    )
    $('pipeline').replaceChildren(
      ...d.pipeline.map((g) =>
        el('tr', { 'data-group': g.group }, [
          el('td', {}, [g.group]),
          el('td', {}, [el('span', { class: `pill ${g.status}` }, [g.status])]),
          el('td', { class: 'num' }, [g.lag === null ? '–' : num(g.lag)]),
          el('td', { class: 'num' }, [num(g.pending)]),
          el('td', { class: 'num' }, [num(g.consumers)]),
          el('td', { class: 'num' }, [num(g.deadLetters)]),
        ]),
      ),
    )
    $('jobs').replaceChildren(
      ...(d.jobs.length === 0 ? [el('tr', {}, [el('td', { class: 'muted' }, ['no runs yet'])])] : []),
      ...d.jobs.map((j) =>
        el('tr', {}, [
          el('td', {}, [j.job]),
          el('td', { class: 'muted' }, [new Date(j.startedAt).toLocaleTimeString()]),
          el('td', { class: 'num' }, [
            el('span', { class: `pill ${j.ok ? 'ok' : 'dead-letters'}` }, [j.ok ? 'ok' : 'failed']),
          ]),
        ]),
      ),
    )
    text('updated', `updated ${new Date(d.generatedAt).toLocaleTimeString()}`)
    document.body.dataset.loaded = 'true'
  }

  const load = async () => {
    const url = `/dashboard/data${tenantId ? `?tenantId=${encodeURIComponent(tenantId)}` : ''}`
    try {
      const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} })
      const body = await res.json()
      if (!res.ok)
        throw new Error(body.error ? `${body.error.code}: ${body.error.message}` : `HTTP ${res.status}`)
      render(body)
      $('error').style.display = 'none'
      $('dot').classList.remove('stale')
    } catch (error) {
      $('error').textContent =
        `Could not load data (${error.message}). Open /dashboard#token=<token> if the data needs a token.`
      $('error').style.display = 'block'
      $('dot').classList.add('stale')
    }
  }

  addEventListener('resize', () => {
    for (const [id, c] of Object.entries(charts))
      c.plot.setSize({ width: Math.max(300, $(id).clientWidth), height: 240 })
  })
  // Fire and forget: load() catches its own failures and shows them in the page.
  void load()
  setInterval(load, refreshMs)
})()
