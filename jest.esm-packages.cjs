// Packages that ship only ESM: swc transforms them for jest (see jest.preset.cjs), and the resolver
// finds those whose `exports` offer only an `import` condition (see jest.resolver.cjs).
module.exports = {
  esmPackages: [
    'typebox',
    'fast-check',
    'pure-rand',
    '@fastify/type-provider-typebox',
    'content-disposition',
    'cookie',
  ],
  esmOnlyPackages: ['kubernetes-models', '@kubernetes-models', 'is-cidr', 'cidr-regex', 'ip-regex'],
};
