package dynamo

import "github.com/acme/helpdesk/internal/helpdesk"

// actorAttrs are who made an item's latest write, kept on tickets,
// comments and tombstones so that the stream's images say it: the events
// made from them name their actor without another read.
type actorAttrs struct {
	ByType string `dynamodbav:"byType,omitempty"`
	ByID   string `dynamodbav:"byId,omitempty"`
	ByName string `dynamodbav:"byName,omitempty"`
}

func actorOf(a helpdesk.Actor) actorAttrs {
	return actorAttrs{ByType: string(a.Type), ByID: a.ID, ByName: a.Name}
}

// actor is the actor the attributes name. An item written before actors
// were recorded names none; nothing requested its write that can be
// named, so it reads as the system.
func (a actorAttrs) actor() helpdesk.Actor {
	if a.ByType == "" {
		return helpdesk.System
	}
	return helpdesk.Actor{Type: helpdesk.ActorType(a.ByType), ID: a.ByID, Name: a.ByName}
}
