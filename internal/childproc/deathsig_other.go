//go:build unix && !linux

package childproc

import "syscall"

// setDeathSignal does nothing: only Linux gives a cheap way to have the
// child die with its parent. Elsewhere a parent killed without calling Stop
// leaves the child running.
func setDeathSignal(*syscall.SysProcAttr) {}
