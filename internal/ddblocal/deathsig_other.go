//go:build unix && !linux

package ddblocal

import "syscall"

// setDeathSignal does nothing: only Linux gives a cheap way to have the
// child die with its parent. Elsewhere a parent killed without running Stop
// leaves java running.
func setDeathSignal(*syscall.SysProcAttr) {}
