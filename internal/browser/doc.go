// Package browser drives headless Chromium for tests: it opens a page,
// waits until a condition holds in it (a selector or a text present, or
// any JavaScript expression), and gives the page's DOM, the requests it
// made, the errors it reported, and a screenshot.
//
// The browser is the Debian package chromium-headless-shell, which make
// browser installs. It is spoken to over the DevTools protocol on its
// --remote-debugging-pipe with the standard library alone, so the module
// takes no browser-automation dependency. Tests import this package; no
// function does, so none of it reaches a Lambda binary.
//
// The browser runs offline: every host name but localhost fails to
// resolve, so a page can reach the test's servers on loopback (by IP or as
// localhost) and nothing else, and Chromium's own background traffic is
// switched off. A request that tried to leave still shows in
// Page.Requests.
package browser
