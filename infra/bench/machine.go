package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/acme/helpdesk/internal/ddblocal"
)

// Machine is where a run took place.
type Machine struct {
	CPU   string `json:"cpu"`
	Cores int    `json:"cores"`
	// MemoryGiB is the machine's memory (MemTotal).
	MemoryGiB float64 `json:"memoryGiB"`
	OS        string  `json:"os"`
	Arch      string  `json:"arch"`
	Go        string  `json:"go"`
	// DynamoDBLocal is the version DynamoDB Local reports.
	DynamoDBLocal string `json:"dynamodbLocal"`
	// RIE is the Lambda Runtime Interface Emulator's module version.
	RIE string `json:"rie,omitempty"`
	// LoadAverageStart and LoadAverage are /proc/loadavg's 1, 5 and 15
	// minute averages when the run began (as make bench recorded it) and
	// when the report was made: how busy the shared machine was.
	LoadAverageStart string `json:"loadAverageStart,omitempty"`
	LoadAverage      string `json:"loadAverage"`
}

func (m Machine) String() string {
	load := m.LoadAverage + " at the end"
	if m.LoadAverageStart != "" {
		load = m.LoadAverageStart + " at the start, " + load
	}
	return fmt.Sprintf("%s, %d cores, %.0f GiB, %s/%s, %s, DynamoDB Local %s, aws-lambda-rie %s; load average %s",
		m.CPU, m.Cores, m.MemoryGiB, m.OS, m.Arch, m.Go, m.DynamoDBLocal, m.RIE, load)
}

// ThisMachine describes the machine this runs on, with rie the emulator's
// version as the Makefile pins it and loadStart the load average when the
// run began. What cannot be read is "unknown".
func ThisMachine(ctx context.Context, rie, loadStart string) Machine {
	m := Machine{
		CPU: "unknown", Cores: runtime.NumCPU(), OS: runtime.GOOS, Arch: runtime.GOARCH, Go: runtime.Version(),
		DynamoDBLocal: "unknown", RIE: rie, LoadAverageStart: loadStart, LoadAverage: "unknown",
	}
	if v := procField("/proc/cpuinfo", "model name"); v != "" {
		m.CPU = v
	}
	var kb float64
	if _, err := fmt.Sscanf(procField("/proc/meminfo", "MemTotal"), "%f kB", &kb); err == nil {
		m.MemoryGiB = kb / (1 << 20)
	}
	if v := LoadAverage(); v != "" {
		m.LoadAverage = v
	}
	if v, err := dynamoDBLocalVersion(ctx); err == nil {
		m.DynamoDBLocal = v
	}
	return m
}

// LoadAverage returns /proc/loadavg's 1, 5 and 15 minute averages, or ""
// where there is none.
func LoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return ""
}

// procField returns the value of the first "key : value" line of a /proc
// file.
func procField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// dynamoDBLocalVersion asks the installed DynamoDB Local for its version.
func dynamoDBLocalVersion(ctx context.Context) (string, error) {
	jar, err := ddblocal.FindJar("")
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "java", "-jar", jar, "-version").Output()
	if err != nil {
		return "", err
	}
	lines := bytes.Split(bytes.TrimSpace(out), []byte("\n"))
	return string(bytes.TrimSpace(lines[len(lines)-1])), nil
}
