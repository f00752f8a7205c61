//go:build unix && !linux

package e2e

import "syscall"

func setDeathSignal(*syscall.SysProcAttr) {}
