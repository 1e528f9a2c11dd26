// Starts DynamoDB Local bound to one host address instead of every interface.
//
// DynamoDB Local has no bind-address option: its DynamoDBProxyServer builds a Jetty Server from a
// port alone, whose ServerConnector then listens on 0.0.0.0. This runner builds the server with
// DynamoDB Local's own ServerRunner (same command line, same handlers), sets the Jetty
// connector's host before anything listens, then starts and joins it.
//
// Host: the system property iris.bind.host (default 127.0.0.1). Compiled at setup by
// infra.local.dynamodb_local with the system's javac against the DynamoDBLocal.jar it runs with.

import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

public final class LoopbackServerRunner {
    private LoopbackServerRunner() {}

    public static void main(String[] args) throws Exception {
        String host = System.getProperty("iris.bind.host", "127.0.0.1");
        DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
        Field field = DynamoDBProxyServer.class.getDeclaredField("server");
        field.setAccessible(true);
        Server server = (Server) field.get(proxy);
        int bound = 0;
        for (Connector connector : server.getConnectors()) {
            if (connector instanceof ServerConnector serverConnector) {
                serverConnector.setHost(host);
                bound++;
            }
        }
        if (bound == 0) {
            System.err.println("no Jetty ServerConnector found; refusing to listen on every interface");
            System.exit(2);
        }
        // safeStart() lets a bind failure (port taken, address missing) escape and end the
        // process with an error, where start() would print it and leave a server that never
        // listens.
        try {
            proxy.safeStart();
        } catch (Exception e) {
            System.err.println("DynamoDB Local could not listen on " + host + ": " + e);
            proxy.stop();
            System.exit(1);
        }
        System.out.println("DynamoDB Local listening on " + host);
        proxy.join();
    }
}
