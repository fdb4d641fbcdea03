// Some ESM-only packages publish `exports` with an `import` condition and no `require` one, which jest's
// CommonJS resolution cannot see. For those (and only those: adding `import` everywhere would pick the
// ESM half of dual packages that swc does not transform) resolve with the `import` condition.
const { esmOnlyPackages } = require('./jest.esm-packages.cjs');

const importOnly = new RegExp(`^(${esmOnlyPackages.map((p) => p.replace('/', '\\/')).join('|')})(\\/|$)`);

module.exports = (request, options) =>
  options.defaultResolver(
    request,
    importOnly.test(request) ? { ...options, conditions: ['import', 'default'] } : options,
  );
