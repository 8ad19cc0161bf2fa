// Jest transform for files Lambda bundles import as text (esbuild's `text` loader), e.g. `.sql`.
module.exports = {
  process(source) {
    return { code: `module.exports = ${JSON.stringify(source)};` };
  },
};
