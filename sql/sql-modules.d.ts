/** SQL files imported by Lambda entry points: esbuild's text loader (and jest's) makes them strings. */
declare module '*.sql' {
  const text: string;
  export default text;
}
