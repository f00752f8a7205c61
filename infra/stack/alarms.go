package stack

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/jsii-runtime-go"
)

// Alarm thresholds.
const (
	// ServerErrorPercent is the share of API responses that may be 5xx
	// over five minutes, in two of three periods, before its alarm fires.
	ServerErrorPercent = 5
	// MaxIteratorAgeMS is how far (in milliseconds) the dispatch function
	// may lag behind the stream, in three of five minutes.
	MaxIteratorAgeMS = 60_000
)

// newAlarms defines the alarms: errors and throttles of every function,
// the API's 5xx rate, the dispatch function's stream lag, and any record
// batch that reached the failure queue.
func (b *builder) newAlarms() {
	fiveMin := awscdk.Duration_Minutes(jsii.Number(5))
	oneMin := awscdk.Duration_Minutes(jsii.Number(1))
	sum := &awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: fiveMin}

	for _, f := range b.functions {
		id := strings.ToUpper(f.spec.name[:1]) + f.spec.name[1:]
		b.alarm(id+"ErrorsAlarm", &awscloudwatch.AlarmProps{
			AlarmDescription:   jsii.String("Helpdesk " + f.spec.name + " function: invocations failed (crash, timeout or unhandled error)"),
			Metric:             f.fn.MetricErrors(sum),
			Threshold:          jsii.Number(1),
			EvaluationPeriods:  jsii.Number(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		})
		b.alarm(id+"ThrottlesAlarm", &awscloudwatch.AlarmProps{
			AlarmDescription:   jsii.String("Helpdesk " + f.spec.name + " function: invocations throttled"),
			Metric:             f.fn.MetricThrottles(sum),
			Threshold:          jsii.Number(1),
			EvaluationPeriods:  jsii.Number(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		})
	}

	api := b.api.api
	b.alarm("Api5xxRateAlarm", &awscloudwatch.AlarmProps{
		AlarmDescription: jsii.String("Helpdesk API: more than 5 % of responses were 5xx"),
		Metric: awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
			Label:      jsii.String("5xx %"),
			Expression: jsii.String("IF(requests > 0, 100 * errors / requests, 0)"),
			UsingMetrics: &map[string]awscloudwatch.IMetric{
				"errors":   api.MetricServerError(sum),
				"requests": api.MetricCount(sum),
			},
			Period: fiveMin,
		}),
		Threshold:          jsii.Number(ServerErrorPercent),
		EvaluationPeriods:  jsii.Number(3),
		DatapointsToAlarm:  jsii.Number(2),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
	})

	dispatch := b.byName(DispatchFunction)
	b.alarm("DispatchIteratorAgeAlarm", &awscloudwatch.AlarmProps{
		AlarmDescription: jsii.String("Helpdesk dispatch function: more than a minute behind the table's stream"),
		Metric: dispatch.fn.Metric(jsii.String("IteratorAge"), &awscloudwatch.MetricOptions{
			Statistic: jsii.String("Maximum"), Period: oneMin,
		}),
		Threshold:          jsii.Number(MaxIteratorAgeMS),
		EvaluationPeriods:  jsii.Number(5),
		DatapointsToAlarm:  jsii.Number(3),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
	})

	b.alarm("StreamFailuresAlarm", &awscloudwatch.AlarmProps{
		AlarmDescription: jsii.String("Helpdesk: stream records the dispatch function gave up on are in the failure queue; their webhook events were not recorded"),
		Metric: b.failures.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{
			Statistic: jsii.String("Maximum"), Period: fiveMin,
		}),
		Threshold:          jsii.Number(0),
		EvaluationPeriods:  jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
	})
}

// alarm defines an alarm that treats missing data as fine and notifies the
// alarm topic, if any.
func (b *builder) alarm(id string, props *awscloudwatch.AlarmProps) {
	props.TreatMissingData = awscloudwatch.TreatMissingData_NOT_BREACHING
	a := awscloudwatch.NewAlarm(b.stack, jsii.String(id), props)
	if b.alarmTopic != nil {
		a.AddAlarmAction(awscloudwatchactions.NewSnsAction(b.alarmTopic))
		a.AddOkAction(awscloudwatchactions.NewSnsAction(b.alarmTopic))
	}
}
