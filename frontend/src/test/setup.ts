// jsdom has no layout: the router's scroll restoration is a no-op in tests.
window.scrollTo = () => undefined
