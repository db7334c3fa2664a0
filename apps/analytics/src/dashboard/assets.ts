/** uPlot's script and stylesheet, served by the app (no CDN). Imported as text so compiled binaries embed them. */

import uplotJs from 'uplot/dist/uPlot.iife.min.js' with { type: 'text' }
import uplotCss from 'uplot/dist/uPlot.min.css' with { type: 'text' }

/** Files under `/dashboard/assets/`. */
export const DASHBOARD_ASSETS: Readonly<Record<string, { body: string; type: string }>> = {
  'uPlot.iife.min.js': { body: uplotJs, type: 'text/javascript; charset=utf-8' },
  'uPlot.min.css': { body: uplotCss, type: 'text/css; charset=utf-8' },
}
