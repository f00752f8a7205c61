package stack

import (
	"encoding/json"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/jsii-runtime-go"

	"github.com/acme/helpdesk/internal/httpapi"
)

// apiResources are the HTTP API's constructs the alarms and suppressions
// refer to.
type apiResources struct {
	api    awsapigatewayv2.HttpApi
	routes []apiRoute
	// fallback is the $default route, to the docs function.
	fallback awsapigatewayv2.HttpRoute
}

// apiRoute is a route of the HTTP API and the httpapi.Routes entry it
// serves.
type apiRoute struct {
	route awsapigatewayv2.HttpRoute
	spec  httpapi.Route
}

// accessLogFormat is the $default stage's access log line: one JSON object
// per request. It holds no header, body or query string, so no API key.
var accessLogFormat = map[string]string{
	"requestId":          "$context.requestId",
	"requestTime":        "$context.requestTimeEpoch",
	"ip":                 "$context.identity.sourceIp",
	"routeKey":           "$context.routeKey",
	"status":             "$context.status",
	"protocol":           "$context.protocol",
	"responseLength":     "$context.responseLength",
	"latency":            "$context.responseLatency",
	"integrationLatency": "$context.integrationLatency",
	"integrationStatus":  "$context.integrationStatus",
	"integrationError":   "$context.integrationErrorMessage",
	"error":              "$context.error.message",
}

// corsPreflight is the HTTP API's CORS configuration: httpapi.CORS, the
// policy the local server applies, for origins. It never allows
// credentials (see httpapi.CORS).
func corsPreflight(origins []string) *awsapigatewayv2.CorsPreflightOptions {
	methods := make([]awsapigatewayv2.CorsHttpMethod, len(httpapi.CORS.AllowMethods))
	for i, m := range httpapi.CORS.AllowMethods {
		methods[i] = awsapigatewayv2.CorsHttpMethod(m)
	}
	return &awsapigatewayv2.CorsPreflightOptions{
		AllowOrigins:  jsii.Strings(origins...),
		AllowMethods:  &methods,
		AllowHeaders:  jsii.Strings(httpapi.CORS.AllowHeaders...),
		ExposeHeaders: jsii.Strings(httpapi.CORS.ExposeHeaders...),
		MaxAge:        awscdk.Duration_Seconds(jsii.Number(httpapi.CORS.MaxAge.Seconds())),
	}
}

// newAPI defines the HTTP API: a route per entry of httpapi.Routes and
// method it answers (HEAD beside GET) to the function of its endpoint
// (payload 2.0), the $default route to the docs function, and the $default
// stage with throttling and JSON access logs.
func (b *builder) newAPI() {
	p := b.props
	props := &awsapigatewayv2.HttpApiProps{
		ApiName:            jsii.String("helpdesk-" + p.Stage),
		Description:        jsii.String("Helpdesk Tickets API (" + p.Stage + ")"),
		CreateDefaultStage: jsii.Bool(false),
	}
	if len(p.CorsOrigins) > 0 {
		props.CorsPreflight = corsPreflight(p.CorsOrigins)
	}
	api := awsapigatewayv2.NewHttpApi(b.stack, jsii.String("Api"), props)
	b.api.api = api

	for _, f := range b.functions {
		if f.spec.endpoint == "" {
			continue
		}
		integration := awsapigatewayv2integrations.NewHttpLambdaIntegration(
			jsii.String(f.spec.name+"Integration"), f.fn,
			&awsapigatewayv2integrations.HttpLambdaIntegrationProps{
				PayloadFormatVersion:   awsapigatewayv2.PayloadFormatVersion_VERSION_2_0(),
				ScopePermissionToRoute: jsii.Bool(true),
			})
		for _, rt := range httpapi.Routes {
			if rt.Endpoint != f.spec.endpoint {
				continue
			}
			var methods []awsapigatewayv2.HttpMethod
			for _, m := range rt.Methods() {
				methods = append(methods, awsapigatewayv2.HttpMethod(m))
			}
			routes := api.AddRoutes(&awsapigatewayv2.AddRoutesOptions{
				Path:        jsii.String(httpapi.BasePath + rt.Path),
				Methods:     &methods,
				Integration: integration,
			})
			for _, r := range *routes {
				b.api.routes = append(b.api.routes, apiRoute{route: r, spec: rt})
			}
		}
		if f.spec.endpoint == httpapi.Docs {
			// What no route matches goes to the docs function, public and
			// table-less, which answers the API's JSON 404, or 405 with
			// Allow from the route table, instead of API Gateway's own
			// {"message":"Not Found"}.
			fallback := awsapigatewayv2.NewHttpRoute(b.stack, jsii.String("DefaultRoute"), &awsapigatewayv2.HttpRouteProps{
				HttpApi:     api,
				RouteKey:    awsapigatewayv2.HttpRouteKey_DEFAULT(),
				Integration: integration,
			})
			b.api.fallback = fallback
		}
	}

	accessLogs := b.newLogGroup("ApiAccessLogs")
	stage := awsapigatewayv2.NewHttpStage(b.stack, jsii.String("DefaultStage"), &awsapigatewayv2.HttpStageProps{
		HttpApi:    api,
		StageName:  jsii.String("$default"),
		AutoDeploy: jsii.Bool(true),
		Throttle: &awsapigatewayv2.ThrottleSettings{
			RateLimit:  jsii.Number(p.ThrottleRate),
			BurstLimit: jsii.Number(p.ThrottleBurst),
		},
	})
	format, err := json.Marshal(accessLogFormat)
	if err != nil {
		panic(err)
	}
	cfn := stage.Node().DefaultChild().(awsapigatewayv2.CfnStage)
	cfn.SetAccessLogSettings(&awsapigatewayv2.CfnStage_AccessLogSettingsProperty{
		DestinationArn: accessLogs.LogGroupArn(),
		Format:         jsii.String(string(format)),
	})
	b.stage = stage
}
