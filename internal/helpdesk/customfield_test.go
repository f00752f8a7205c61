package helpdesk_test

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/acme/helpdesk/internal/helpdesk"
)

// options returns n distinct valid dropdown options.
func options(n int) []string {
	opts := make([]string, n)
	for i := range opts {
		opts[i] = fmt.Sprintf("opt%d", i)
	}
	return opts
}

func fieldType(t helpdesk.FieldType) *helpdesk.FieldType { return &t }

func TestCustomFieldPatchValidate(t *testing.T) {
	textField := &helpdesk.CustomField{ID: "cf_a", Name: "Notes", Type: helpdesk.FieldText, Options: []string{}}
	dropdown := &helpdesk.CustomField{ID: "cf_b", Name: "Region", Type: helpdesk.FieldDropdown, Options: []string{"emea", "apac"}}
	cases := []struct {
		name  string
		patch helpdesk.CustomFieldPatch
		old   *helpdesk.CustomField // nil for a create
		want  []string
	}{
		// create
		{"CreateText", helpdesk.CustomFieldPatch{Name: new("Notes"), Type: fieldType(helpdesk.FieldText)}, nil, nil},
		{"CreateNumber", helpdesk.CustomFieldPatch{Name: new("N"), Type: fieldType(helpdesk.FieldNumber)}, nil, nil},
		{"CreateCheckbox", helpdesk.CustomFieldPatch{Name: new("N"), Type: fieldType(helpdesk.FieldCheckbox)}, nil, nil},
		{"CreateDate", helpdesk.CustomFieldPatch{Name: new("N"), Type: fieldType(helpdesk.FieldDate)}, nil, nil},
		{"CreateDropdown", helpdesk.CustomFieldPatch{Name: new("Region"), Type: fieldType(helpdesk.FieldDropdown), Options: new([]string{"emea"})}, nil, nil},
		{"CreateNoName", helpdesk.CustomFieldPatch{Type: fieldType(helpdesk.FieldText)}, nil, []string{"customField.name"}},
		{"CreateNoType", helpdesk.CustomFieldPatch{Name: new("Notes")}, nil, []string{"customField.type"}},
		{"CreateNothing", helpdesk.CustomFieldPatch{}, nil, []string{"customField.name", "customField.type"}},
		{"CreateBlankName", helpdesk.CustomFieldPatch{Name: new(" \t "), Type: fieldType(helpdesk.FieldText)}, nil, []string{"customField.name"}},
		{"CreateEmptyName", helpdesk.CustomFieldPatch{Name: new(""), Type: fieldType(helpdesk.FieldText)}, nil, []string{"customField.name"}},
		{"CreateName100", helpdesk.CustomFieldPatch{Name: new(repeat("n", 100)), Type: fieldType(helpdesk.FieldText)}, nil, nil},
		{"CreateName101", helpdesk.CustomFieldPatch{Name: new(repeat("n", 101)), Type: fieldType(helpdesk.FieldText)}, nil, []string{"customField.name"}},
		{"CreateName100MultiByte", helpdesk.CustomFieldPatch{Name: new(repeat("é", 100)), Type: fieldType(helpdesk.FieldText)}, nil, nil},
		{"CreateName101MultiByte", helpdesk.CustomFieldPatch{Name: new(repeat("é", 101)), Type: fieldType(helpdesk.FieldText)}, nil, []string{"customField.name"}},
		{"CreateName100Padded", helpdesk.CustomFieldPatch{Name: new("  " + repeat("n", 100) + "  "), Type: fieldType(helpdesk.FieldText)}, nil, nil},
		{"CreateUnknownType", helpdesk.CustomFieldPatch{Name: new("N"), Type: fieldType("url")}, nil, []string{"customField.type"}},
		{"CreateTypeWrongCase", helpdesk.CustomFieldPatch{Name: new("N"), Type: fieldType("Text")}, nil, []string{"customField.type"}},

		// options
		{"DropdownWithoutOptions", helpdesk.CustomFieldPatch{Name: new("R"), Type: fieldType(helpdesk.FieldDropdown)}, nil, []string{"customField.options"}},
		{"DropdownEmptyOptions", helpdesk.CustomFieldPatch{Name: new("R"), Type: fieldType(helpdesk.FieldDropdown), Options: new([]string{})}, nil, []string{"customField.options"}},
		{"Dropdown100Options", helpdesk.CustomFieldPatch{Name: new("R"), Type: fieldType(helpdesk.FieldDropdown), Options: new(options(100))}, nil, nil},
		{"Dropdown101Options", helpdesk.CustomFieldPatch{Name: new("R"), Type: fieldType(helpdesk.FieldDropdown), Options: new(options(101))}, nil, []string{"customField.options"}},
		{"DropdownDuplicateOption", helpdesk.CustomFieldPatch{Name: new("R"), Type: fieldType(helpdesk.FieldDropdown), Options: new([]string{"a", "b", "a"})}, nil, []string{"customField.options[2]"}},
		{"DropdownBlankOption", helpdesk.CustomFieldPatch{Name: new("R"), Type: fieldType(helpdesk.FieldDropdown), Options: new([]string{"a", " "})}, nil, []string{"customField.options[1]"}},
		{"DropdownEmptyOption", helpdesk.CustomFieldPatch{Name: new("R"), Type: fieldType(helpdesk.FieldDropdown), Options: new([]string{""})}, nil, []string{"customField.options[0]"}},
		{"DropdownOption100", helpdesk.CustomFieldPatch{Name: new("R"), Type: fieldType(helpdesk.FieldDropdown), Options: new([]string{repeat("o", 100)})}, nil, nil},
		{"DropdownOption101", helpdesk.CustomFieldPatch{Name: new("R"), Type: fieldType(helpdesk.FieldDropdown), Options: new([]string{"a", repeat("o", 101)})}, nil, []string{"customField.options[1]"}},
		{"DropdownOption100MultiByte", helpdesk.CustomFieldPatch{Name: new("R"), Type: fieldType(helpdesk.FieldDropdown), Options: new([]string{repeat("é", 100)})}, nil, nil},
		{"DropdownOption101MultiByte", helpdesk.CustomFieldPatch{Name: new("R"), Type: fieldType(helpdesk.FieldDropdown), Options: new([]string{repeat("é", 101)})}, nil, []string{"customField.options[0]"}},
		{"DropdownSeveralBadOptions", helpdesk.CustomFieldPatch{Name: new("R"), Type: fieldType(helpdesk.FieldDropdown), Options: new([]string{"a", "", "a", "b", "b"})}, nil,
			[]string{"customField.options[1]", "customField.options[2]", "customField.options[4]"}},
		{"TextWithOptions", helpdesk.CustomFieldPatch{Name: new("N"), Type: fieldType(helpdesk.FieldText), Options: new([]string{"a"})}, nil, []string{"customField.options"}},
		{"NumberWithOptions", helpdesk.CustomFieldPatch{Name: new("N"), Type: fieldType(helpdesk.FieldNumber), Options: new([]string{"1"})}, nil, []string{"customField.options"}},
		{"TextWithEmptyOptions", helpdesk.CustomFieldPatch{Name: new("N"), Type: fieldType(helpdesk.FieldText), Options: new([]string{})}, nil, nil},

		// update
		{"UpdateNothing", helpdesk.CustomFieldPatch{}, textField, nil},
		{"UpdateName", helpdesk.CustomFieldPatch{Name: new("Comments")}, textField, nil},
		{"UpdateBlankName", helpdesk.CustomFieldPatch{Name: new("  ")}, textField, []string{"customField.name"}},
		{"UpdateSameType", helpdesk.CustomFieldPatch{Type: fieldType(helpdesk.FieldText)}, textField, nil},
		{"UpdateTypeChange", helpdesk.CustomFieldPatch{Type: fieldType(helpdesk.FieldNumber)}, textField, []string{"customField.type"}},
		{"UpdateTypeChangeFromDropdown", helpdesk.CustomFieldPatch{Type: fieldType(helpdesk.FieldText)}, dropdown, []string{"customField.type"}},
		{"UpdateUnknownType", helpdesk.CustomFieldPatch{Type: fieldType("url")}, textField, []string{"customField.type"}},
		{"UpdateOptionsOfText", helpdesk.CustomFieldPatch{Options: new([]string{"a"})}, textField, []string{"customField.options"}},
		{"UpdateDropdownName", helpdesk.CustomFieldPatch{Name: new("Area")}, dropdown, nil},
		{"UpdateDropdownOptions", helpdesk.CustomFieldPatch{Options: new([]string{"amer"})}, dropdown, nil},
		{"UpdateDropdownEmptyOptions", helpdesk.CustomFieldPatch{Options: new([]string{})}, dropdown, []string{"customField.options"}},
		{"UpdateDropdownDuplicateOptions", helpdesk.CustomFieldPatch{Options: new([]string{"x", "x"})}, dropdown, []string{"customField.options[1]"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var problems helpdesk.Problems
			tc.patch.Validate("customField.", tc.old, &problems)
			assertFields(t, problems, tc.want...)
		})
	}
}

// TestCustomFieldPatchValidateCallerProblems checks that an option the
// caller already found bad (e.g. not a string, decoded as "") is not reported
// again, while other options still are.
func TestCustomFieldPatchValidateCallerProblems(t *testing.T) {
	cases := []struct {
		name   string
		caller helpdesk.Problems
		opts   []string
		want   []string
	}{
		{"OptionAlreadyBad", helpdesk.Problems{{Field: "customField.options[0]", Message: "must be a string"}},
			[]string{"", "a"}, []string{"customField.options[0]"}},
		{"DuplicateOfBadOptionNotReported", helpdesk.Problems{{Field: "customField.options[0]", Message: "must be a string"}, {Field: "customField.options[1]", Message: "must be a string"}},
			[]string{"", ""}, []string{"customField.options[0]", "customField.options[1]"}},
		{"OtherOptionsStillChecked", helpdesk.Problems{{Field: "customField.options[1]", Message: "must be a string"}},
			[]string{"a", "", "a", " "}, []string{"customField.options[1]", "customField.options[2]", "customField.options[3]"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			problems := tc.caller
			p := helpdesk.CustomFieldPatch{Name: new("R"), Type: fieldType(helpdesk.FieldDropdown), Options: &tc.opts}
			p.Validate("customField.", nil, &problems)
			assertFields(t, problems, tc.want...)
		})
	}
}

func TestCustomFieldPatchApply(t *testing.T) {
	existing := func() *helpdesk.CustomField {
		return &helpdesk.CustomField{ID: "cf_b", Name: "Region", Type: helpdesk.FieldDropdown, Options: []string{"emea", "apac"}, Version: 3}
	}
	cases := []struct {
		name        string
		patch       helpdesk.CustomFieldPatch
		field       *helpdesk.CustomField
		want        *helpdesk.CustomField
		wantChanged bool
	}{
		{"CreateText", helpdesk.CustomFieldPatch{Name: new("  Notes \t"), Type: fieldType(helpdesk.FieldText)},
			&helpdesk.CustomField{ID: "cf_a"},
			&helpdesk.CustomField{ID: "cf_a", Name: "Notes", Type: helpdesk.FieldText, Options: []string{}}, true},
		{"CreateDropdown", helpdesk.CustomFieldPatch{Name: new("Region"), Type: fieldType(helpdesk.FieldDropdown), Options: new([]string{"emea", "apac"})},
			&helpdesk.CustomField{ID: "cf_b"},
			&helpdesk.CustomField{ID: "cf_b", Name: "Region", Type: helpdesk.FieldDropdown, Options: []string{"emea", "apac"}}, true},
		{"TypeOnly", helpdesk.CustomFieldPatch{Type: fieldType(helpdesk.FieldDate)},
			&helpdesk.CustomField{ID: "cf_a", Name: "Due"},
			&helpdesk.CustomField{ID: "cf_a", Name: "Due", Type: helpdesk.FieldDate, Options: []string{}}, true},
		{"Nothing", helpdesk.CustomFieldPatch{}, existing(), existing(), false},
		{"SameName", helpdesk.CustomFieldPatch{Name: new("Region")}, existing(), existing(), false},
		{"SameNameAfterTrim", helpdesk.CustomFieldPatch{Name: new(" Region ")}, existing(), existing(), false},
		{"Rename", helpdesk.CustomFieldPatch{Name: new(" Area ")}, existing(),
			&helpdesk.CustomField{ID: "cf_b", Name: "Area", Type: helpdesk.FieldDropdown, Options: []string{"emea", "apac"}, Version: 3}, true},
		{"SameType", helpdesk.CustomFieldPatch{Type: fieldType(helpdesk.FieldDropdown)}, existing(), existing(), false},
		{"SameOptions", helpdesk.CustomFieldPatch{Options: new([]string{"emea", "apac"})}, existing(), existing(), false},
		{"ReorderedOptions", helpdesk.CustomFieldPatch{Options: new([]string{"apac", "emea"})}, existing(),
			&helpdesk.CustomField{ID: "cf_b", Name: "Region", Type: helpdesk.FieldDropdown, Options: []string{"apac", "emea"}, Version: 3}, true},
		{"NewOptions", helpdesk.CustomFieldPatch{Options: new([]string{"emea", "apac", "amer"})}, existing(),
			&helpdesk.CustomField{ID: "cf_b", Name: "Region", Type: helpdesk.FieldDropdown, Options: []string{"emea", "apac", "amer"}, Version: 3}, true},
		{"NilOptionsBecomeEmpty", helpdesk.CustomFieldPatch{},
			&helpdesk.CustomField{ID: "cf_a", Name: "Notes", Type: helpdesk.FieldText},
			&helpdesk.CustomField{ID: "cf_a", Name: "Notes", Type: helpdesk.FieldText, Options: []string{}}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			changed := tc.patch.Apply(tc.field)
			if !reflect.DeepEqual(tc.field, tc.want) {
				t.Errorf("field = %+v, want %+v", tc.field, tc.want)
			}
			if changed != tc.wantChanged {
				t.Errorf("Apply reported changed = %v, want %v", changed, tc.wantChanged)
			}
		})
	}
}

// TestCustomFieldPatchApplyCopiesOptions checks that the definition does not
// share its options with the patch.
func TestCustomFieldPatchApplyCopiesOptions(t *testing.T) {
	opts := []string{"a", "b"}
	f := &helpdesk.CustomField{}
	(&helpdesk.CustomFieldPatch{Name: new("R"), Type: fieldType(helpdesk.FieldDropdown), Options: &opts}).Apply(f)
	opts[0] = "changed"
	if !reflect.DeepEqual(f.Options, []string{"a", "b"}) {
		t.Errorf("Options = %q after the patch's slice changed, want [a b]", f.Options)
	}
}

func TestValidCustomFieldID(t *testing.T) {
	cases := []struct {
		name string
		id   string
		want bool
	}{
		{"Short", "cf_a", true},
		{"WholeAlphabet", "cf_abcdefghijklmnopqrstuvwxyz234567", true},
		{"Len64", "cf_" + repeat("a", 64), true},
		{"Len65", "cf_" + repeat("a", 65), false},
		{"PrefixOnly", "cf_", false},
		{"Upper", "cf_A", false},
		{"DigitOutsideBase32", "cf_1", false},
		{"Dash", "cf_a-b", false},
		{"TicketID", "tkt_abc", false},
		{"Empty", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := helpdesk.ValidCustomFieldID(tc.id); got != tc.want {
				t.Errorf("ValidCustomFieldID(%q) = %v, want %v", tc.id, got, tc.want)
			}
		})
	}
}
