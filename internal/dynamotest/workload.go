package dynamotest

import (
	"context"
	"encoding/base32"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acme/helpdesk/internal/dynamo"
	"github.com/acme/helpdesk/internal/helpdesk"
)

// This file is issue 13's workload: the tickets a support desk holds and
// the reads and writes it makes of them, as data, so that every measurement
// of a list plan or a write path weighs the same mix. Every draw comes from
// a seeded PCG, so two runs of the same size hold the same tickets.

// Weighted is a value and its share of a mix, in percent.
type Weighted[T any] struct {
	Value T
	Share float64
}

// Draw picks a value of mix with the probability of its share.
func Draw[T any](rng *rand.Rand, mix []Weighted[T]) T {
	total := 0.0
	for _, w := range mix {
		total += w.Share
	}
	r := rng.Float64() * total
	for _, w := range mix {
		if r < w.Share {
			return w.Value
		}
		r -= w.Share
	}
	return mix[len(mix)-1].Value
}

// StatusMix is the tickets' statuses: most of a desk's tickets are done.
var StatusMix = []Weighted[helpdesk.Status]{
	{helpdesk.StatusClosed, 55}, {helpdesk.StatusResolved, 15}, {helpdesk.StatusOpen, 14},
	{helpdesk.StatusNew, 8}, {helpdesk.StatusPending, 8},
}

// PriorityMix is the tickets' priorities.
var PriorityMix = []Weighted[helpdesk.Priority]{
	{helpdesk.PriorityNormal, 60}, {helpdesk.PriorityLow, 20}, {helpdesk.PriorityHigh, 15}, {helpdesk.PriorityUrgent, 5},
}

// The agents: WorkloadAgents of them, the first the busiest (their loads
// follow a Zipf law of exponent AgentSkew), and UnassignedShare percent
// of the tickets with none.
const (
	WorkloadAgents  = 30
	AgentSkew       = 1.2
	UnassignedShare = 15
)

// MaxWorkloadComments is the most comments a seeded ticket takes; each
// takes between none and this many, evenly.
const MaxWorkloadComments = 12

// WorkloadWeeks is how far back the seeded tickets' creation reaches.
const WorkloadWeeks = 8

// Agent returns the id of the workload's agent of rank i (0 the busiest).
func Agent(i int) string { return fmt.Sprintf("usr_agent%02d", i+1) }

// Agents returns the workload's agents, busiest first.
func Agents() []string {
	ids := make([]string, WorkloadAgents)
	for i := range ids {
		ids[i] = Agent(i)
	}
	return ids
}

// Workload draws tickets with the workload's distributions. Its draws
// are one sequence, so it is not safe for concurrent use.
type Workload struct {
	rng   *rand.Rand
	agent *rand.Zipf
	ids   *rand.Rand
}

// NewWorkload returns a workload whose draws follow seed.
func NewWorkload(seed uint64) *Workload {
	rng := rand.New(rand.NewPCG(seed, 13))
	return &Workload{
		rng:   rng,
		agent: rand.NewZipf(rng, AgentSkew, 1, WorkloadAgents-1),
		// Ids come from a stream of their own, so that they do not shift
		// the other draws.
		ids: rand.New(rand.NewPCG(seed, 14)),
	}
}

// Rand returns the workload's random source, for callers that draw more
// (which kind of write, which ticket) in the same reproducible sequence.
func (w *Workload) Rand() *rand.Rand { return w.rng }

// TicketID returns a fresh ticket id of the shape helpdesk.NewID makes,
// from the seeded source.
func (w *Workload) TicketID() string {
	b := make([]byte, 15)
	for i := range b {
		b[i] = byte(w.ids.Uint32())
	}
	return "tkt_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// Assignee draws an assignee: "" for an unassigned ticket.
func (w *Workload) Assignee() string {
	if w.rng.Float64()*100 < UnassignedShare {
		return ""
	}
	return Agent(int(w.agent.Uint64()))
}

var (
	workloadSubjects = []string{
		"Cannot log in after the password reset", "Invoice shows the wrong VAT number", "Export to CSV times out for large reports",
		"Two-factor codes arrive late", "Please add a seat to our plan", "Webhook deliveries fail with a 502", "Dashboard is blank in Safari",
		"Refund for a duplicate charge", "API rate limit reached during the nightly sync", "How do I change the account owner?",
	}
	workloadTags   = [][]string{{"billing"}, {"login", "urgent"}, {"api", "integration"}, {"export", "reports", "enterprise"}, {"mobile"}, {"billing", "refund"}}
	workloadPeople = []string{"Jane Doe", "Ahmed Karimi", "Li Wei", "María García", "Olu Adeyemi", "Sven Larsson"}
	workloadText   = "Thanks for the details. I checked the account and can see the failed attempts in the log; could you try again from a private window and tell me whether the error still shows? "
)

// Patch draws the body of a create as a client sends it: a subject, a
// requester, tags, a type, a priority and an assignee (no status: a new
// ticket is new).
func (w *Workload) Patch() *helpdesk.TicketPatch {
	name := workloadPeople[w.rng.IntN(len(workloadPeople))]
	subject := workloadSubjects[w.rng.IntN(len(workloadSubjects))] + fmt.Sprintf(" (order %d)", 100000+w.rng.IntN(900000))
	prio := Draw(w.rng, PriorityMix)
	typ := helpdesk.Types[w.rng.IntN(len(helpdesk.Types))]
	tags := slices.Clone(workloadTags[w.rng.IntN(len(workloadTags))])
	p := &helpdesk.TicketPatch{
		Subject: &subject, Priority: &prio, Type: &typ, Tags: &tags,
		RequesterEmail: helpdesk.Set(strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@example.com"),
		RequesterName:  helpdesk.Set(name),
	}
	if a := w.Assignee(); a != "" {
		p.AssigneeID = helpdesk.Set(a)
	}
	return p
}

// CommentDraft draws a comment as a client sends it: 100 to 800 bytes,
// half from the customer, half from an agent (a third of those internal
// notes).
func (w *Workload) CommentDraft() *helpdesk.CommentDraft {
	body := strings.Repeat(workloadText, 5)[:100+w.rng.IntN(701)]
	if w.rng.IntN(2) == 0 {
		return &helpdesk.CommentDraft{Body: &body, AuthorEmail: helpdesk.Set("customer@example.com")}
	}
	public := w.rng.IntN(3) > 0
	return &helpdesk.CommentDraft{Body: &body, AuthorID: helpdesk.Set(Agent(w.rng.IntN(WorkloadAgents))), Public: &public}
}

// seeded is one ticket to seed: the ticket as created, and the times of
// its comments.
type seeded struct {
	ticket   *helpdesk.Ticket
	comments []time.Time
	drafts   []*helpdesk.CommentDraft
}

// plan draws one ticket's life, ending before now. Tickets that are done
// were created any time in the last WorkloadWeeks weeks and last a few
// days; open and pending ones are younger; new ones younger still (hours
// to a couple of days). Its comments fall between its creation and its
// last change, the last of them being that change.
func (w *Workload) plan(now time.Time) seeded {
	status := Draw(w.rng, StatusMix)
	horizon := float64(WorkloadWeeks * 7 * 24 * time.Hour)
	var age float64
	switch status {
	case helpdesk.StatusNew:
		age = w.rng.ExpFloat64() * float64(18*time.Hour)
	case helpdesk.StatusOpen, helpdesk.StatusPending:
		age = w.rng.ExpFloat64() * float64(5*24*time.Hour)
	default:
		age = w.rng.Float64() * horizon
	}
	age = math.Min(age, horizon) + float64(time.Minute)
	created := now.Add(-time.Duration(age)).Truncate(time.Millisecond)
	// The ticket's life: a fraction of its age for tickets still in
	// progress, about two days (exponentially) for those done.
	life := w.rng.Float64() * (age - float64(time.Minute))
	if status == helpdesk.StatusClosed || status == helpdesk.StatusResolved {
		life = math.Min(w.rng.ExpFloat64()*float64(2*24*time.Hour), age-float64(time.Minute))
	}
	updated := created.Add(time.Duration(life)).Truncate(time.Millisecond)
	if !updated.After(created) {
		updated = created.Add(time.Millisecond)
	}

	p := w.Patch()
	t := helpdesk.NewTicket(w.TicketID(), created)
	p.Apply(t)
	t.Status = status
	t.UpdatedAt = updated
	s := seeded{ticket: t}
	n := w.rng.IntN(MaxWorkloadComments + 1)
	for i := range n {
		at := updated
		if i < n-1 {
			at = created.Add(time.Duration(w.rng.Float64() * float64(updated.Sub(created)))).Truncate(time.Millisecond)
		}
		s.comments = append(s.comments, at)
		s.drafts = append(s.drafts, w.CommentDraft())
	}
	// In time order, each after the one before, as the store keeps them.
	slices.SortFunc(s.comments, func(a, b time.Time) int { return a.Compare(b) })
	for i := 1; i < n; i++ {
		if !s.comments[i].After(s.comments[i-1]) {
			s.comments[i] = s.comments[i-1].Add(time.Millisecond)
		}
	}
	if n > 0 {
		if !s.comments[0].After(created) {
			s.comments[0] = created.Add(time.Millisecond)
		}
		t.UpdatedAt = created // the comments move it on
	}
	return s
}

// seedWriters is how many goroutines seed at once: DynamoDB Local serves
// requests in parallel, and a write's round trip is most of its time.
const seedWriters = 32

// SeedWorkload stores n tickets of the workload drawn from w, and their
// comments, through the store's own code paths: CreateTicket with the
// ticket's final status and fields (as an import would), then AddComment
// for each comment, which writes the comment and moves the ticket's
// UpdatedAt to it in one transaction, as helpdesk.Conversations does (the
// status stays the drawn one: a customer's reply does not reopen it here).
// It writes concurrently, each ticket's writes in order, and returns the
// tickets as stored, in the order drawn.
//
// With comments false it writes each ticket once, as its comments would
// have left it (UpdatedAt at the last, Comments counting them), and no
// comment items: the same draws, so the same tickets. A list reads the
// very same index entries either way, since comments are in no index, at
// a seventh of the writes: DynamoDB Local applies a write to the table
// and its indexes one at a time, so thousands of tickets' comments take
// minutes.
func SeedWorkload(tb testing.TB, store *dynamo.Store, w *Workload, n int, comments bool) []*helpdesk.Ticket {
	tb.Helper()
	now := Now()
	plans := make([]seeded, n)
	for i := range plans {
		plans[i] = w.plan(now)
	}
	ctx := helpdesk.WithActor(tb.Context(), helpdesk.Actor{Type: helpdesk.ActorAPIKey, ID: "key_seed", Name: "workload"})
	var wg sync.WaitGroup
	errs := make([]error, seedWriters)
	for g := range seedWriters {
		wg.Go(func() {
			for i := g; i < n && errs[g] == nil; i += seedWriters {
				errs[g] = seedOne(ctx, store, plans[i], comments)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			tb.Fatalf("seed the workload: %v", err)
		}
	}
	out := make([]*helpdesk.Ticket, n)
	for i, p := range plans {
		out[i] = p.ticket
	}
	return out
}

// seedOne writes one planned ticket and, with comments, its comments.
func seedOne(ctx context.Context, store *dynamo.Store, p seeded, comments bool) error {
	t := p.ticket
	t.ChangedBy = helpdesk.ActorOf(ctx)
	if !comments && len(p.comments) > 0 {
		t.UpdatedAt = p.comments[len(p.comments)-1]
		t.Comments = len(p.comments)
	}
	if err := store.CreateTicket(ctx, t, nil); err != nil {
		return fmt.Errorf("create %s: %w", t.ID, err)
	}
	if !comments {
		return nil
	}
	for i, at := range p.comments {
		d := p.drafts[i]
		c := &helpdesk.Comment{
			ID: helpdesk.NewCommentID(at), TicketID: t.ID, Body: *d.Body, Public: d.Public == nil || *d.Public,
			AuthorID: d.AuthorID.Value, AuthorEmail: d.AuthorEmail.Value, CreatedAt: at, ChangedBy: t.ChangedBy,
		}
		t.UpdatedAt = at
		t.Comments++
		if err := store.AddComment(ctx, c, t, nil); err != nil {
			return fmt.Errorf("comment on %s: %w", t.ID, err)
		}
	}
	return nil
}

// ListClass is one kind of list request of the workload: a shape of
// filter, a sort and an order, and its share of the list requests. Its
// requests spread evenly over Queries: the filter values a desk asks for.
type ListClass struct {
	Name    string
	Share   float64 // percent of list requests
	Queries []helpdesk.ListQuery

	hot bool
}

// Filters returns how many filters the class's requests set.
func (c ListClass) Filters() int {
	f := c.Queries[0].Filter
	n := 0
	for _, set := range []bool{f.Status != "", f.Priority != "", f.AssigneeID != ""} {
		if set {
			n++
		}
	}
	return n
}

// Hot reports whether the class is one of the three whose every page the
// index plan v2 must read exactly: a single status by updated_at, an
// assignee's tickets of a status, a single status by priority.
func (c ListClass) Hot() bool { return c.hot }

// queueStatuses are the statuses a queue shows: the tickets still to do.
var queueStatuses = []helpdesk.Status{helpdesk.StatusNew, helpdesk.StatusOpen, helpdesk.StatusPending}

// ListMix returns the workload's list requests in 25-item pages:
//
//   - a single status (new, open or pending) by updated_at desc, 30 %;
//   - an assignee's tickets of a status (new, open or pending) by
//     updated_at desc, 20 % (the issue names no sort; an agent's queue shows
//     the latest activity first, as the status queue does);
//   - a single status (new, open or pending) by priority desc, 15 %;
//   - no filter by created_at desc, 10 %, and by updated_at desc, 10 %;
//   - an assignee's tickets by updated_at desc, 10 %;
//   - every other filter shape × sort × order, 5 % spread evenly.
//
// An assignee's requests spread over every agent (each agent reads their
// own queue). The other classes filter by one typical value each: status
// open, priority high, the busiest agent.
func ListMix() []ListClass {
	page := helpdesk.DefaultPageSize
	q := func(f helpdesk.TicketFilter, by helpdesk.SortBy, o helpdesk.Order) helpdesk.ListQuery {
		return helpdesk.ListQuery{Filter: f, SortBy: by, Order: o, PageSize: page}
	}
	byStatus := func(by helpdesk.SortBy) []helpdesk.ListQuery {
		var qs []helpdesk.ListQuery
		for _, st := range queueStatuses {
			qs = append(qs, q(helpdesk.TicketFilter{Status: st}, by, helpdesk.Desc))
		}
		return qs
	}
	var agentStatus, agent []helpdesk.ListQuery
	for _, a := range Agents() {
		agent = append(agent, q(helpdesk.TicketFilter{AssigneeID: a}, helpdesk.SortUpdatedAt, helpdesk.Desc))
		for _, st := range queueStatuses {
			agentStatus = append(agentStatus, q(helpdesk.TicketFilter{Status: st, AssigneeID: a}, helpdesk.SortUpdatedAt, helpdesk.Desc))
		}
	}
	named := []ListClass{
		{Name: "status/updated_at/desc", Share: 30, Queries: byStatus(helpdesk.SortUpdatedAt), hot: true},
		{Name: "status+assignee/updated_at/desc", Share: 20, Queries: agentStatus, hot: true},
		{Name: "status/priority/desc", Share: 15, Queries: byStatus(helpdesk.SortPriority), hot: true},
		{Name: "none/created_at/desc", Share: 10, Queries: []helpdesk.ListQuery{q(helpdesk.TicketFilter{}, helpdesk.SortCreatedAt, helpdesk.Desc)}},
		{Name: "none/updated_at/desc", Share: 10, Queries: []helpdesk.ListQuery{q(helpdesk.TicketFilter{}, helpdesk.SortUpdatedAt, helpdesk.Desc)}},
		{Name: "assignee/updated_at/desc", Share: 10, Queries: agent},
	}
	var rest []ListClass
	for _, st := range []helpdesk.Status{"", helpdesk.StatusOpen} {
		for _, pr := range []helpdesk.Priority{"", helpdesk.PriorityHigh} {
			for _, as := range []string{"", Agent(0)} {
				for _, by := range helpdesk.SortFields {
					for _, o := range []helpdesk.Order{helpdesk.Asc, helpdesk.Desc} {
						f := helpdesk.TicketFilter{Status: st, Priority: pr, AssigneeID: as}
						c := ListClass{Name: fmt.Sprintf("%s/%s/%s", filterName(f), by, o), Queries: []helpdesk.ListQuery{q(f, by, o)}}
						if !slices.ContainsFunc(named, func(n ListClass) bool { return n.Name == c.Name }) {
							rest = append(rest, c)
						}
					}
				}
			}
		}
	}
	for i := range rest {
		rest[i].Share = 5 / float64(len(rest))
	}
	return append(named, rest...)
}

// filterName names the filters f sets, "none" for none.
func filterName(f helpdesk.TicketFilter) string {
	var parts []string
	if f.Status != "" {
		parts = append(parts, "status")
	}
	if f.Priority != "" {
		parts = append(parts, "priority")
	}
	if f.AssigneeID != "" {
		parts = append(parts, "assignee")
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "+")
}

// WriteKind is a kind of ticket-changing request.
type WriteKind string

// The kinds of write the workload makes, and the trash's (deletion,
// restore and purge), which it measures apart: the mix makes none.
const (
	WriteCreate      WriteKind = "create"
	WriteComment     WriteKind = "comment"
	WriteStatus      WriteKind = "status change"
	WriteAssignment  WriteKind = "assignment change"
	WriteOtherUpdate WriteKind = "other update"
	WriteDelete      WriteKind = "delete"
	WriteRestore     WriteKind = "restore"
	WritePurge       WriteKind = "purge"
)

// The updates' share of the writes, and the parts of it that change the
// status and the assignee.
const (
	updatesShare      = 35.0
	statusUpdates     = updatesShare / 3
	assignmentUpdates = updatesShare / 6
)

// WriteMix is the workload's ticket-changing requests: creates 25 %,
// comments 40 %, updates 35 % (a third of them changing the status, a
// sixth the assignee, the rest other fields).
var WriteMix = []Weighted[WriteKind]{
	{WriteCreate, 25}, {WriteComment, 40},
	{WriteStatus, statusUpdates}, {WriteAssignment, assignmentUpdates},
	{WriteOtherUpdate, updatesShare - statusUpdates - assignmentUpdates},
}

// The reads of the workload's requests: 80 % of them, split as a desk's
// traffic splits (make bench's mix before issue 13): ticket list pages 28 %,
// gets of a ticket 28 %, pages of a conversation 20 %, pages of the change
// feed 4 % (an integration polling it). The other 20 % are writes, split
// by WriteMix.
const (
	ListShare         = 28.0
	GetShare          = 28.0
	CommentPagesShare = 20.0
	FeedPagesShare    = 4.0
	WritesShare       = 20.0
)
