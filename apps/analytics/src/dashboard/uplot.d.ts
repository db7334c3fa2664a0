// Bun's `with { type: 'text' }` imports give the file's contents as a string (embedded by `bun build --compile`).
declare module 'uplot/dist/uPlot.iife.min.js' {
  const text: string
  export default text
}
declare module 'uplot/dist/uPlot.min.css' {
  const text: string
  export default text
}
// The dashboard's own browser script, imported as text.
declare module '*/dashboard-client.js' {
  const text: string
  export default text
}
