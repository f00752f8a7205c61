package helpdesk

// SortBy names the order of a ticket list.
type SortBy string

// The sort orders of the list endpoint. Ties are broken by creation time,
// then id, in the same direction.
const (
	SortCreatedAt SortBy = "created_at"
	SortUpdatedAt SortBy = "updated_at"
	SortStatus    SortBy = "status"   // lifecycle order, see Statuses
	SortPriority  SortBy = "priority" // lowest first, see Priorities
)

// SortFields lists every SortBy.
var SortFields = []SortBy{SortCreatedAt, SortUpdatedAt, SortStatus, SortPriority}

// Order is the direction of a sort.
type Order string

// The sort directions.
const (
	Asc  Order = "asc"
	Desc Order = "desc"
)

// Page sizes of the list endpoint.
const (
	DefaultPageSize = 25
	MaxPageSize     = 100
)

// TicketFilter restricts a list to tickets whose fields equal the set
// values. Empty values do not filter.
type TicketFilter struct {
	Status     Status
	Priority   Priority
	AssigneeID string
}

// ListQuery asks for one page of tickets.
type ListQuery struct {
	Filter   TicketFilter
	SortBy   SortBy
	Order    Order
	PageSize int
	// After is the opaque cursor of the previous page, empty for the first.
	After string
}

// TicketPage is one page of a ticket list.
type TicketPage struct {
	Tickets []*Ticket
	// Next is the cursor of the next page; empty when no further non-empty
	// page exists.
	Next string
}
