package com.acme.orders;

import java.util.ArrayList;
import java.util.List;

/**
 * Throws an exception with two causes and prints two things about it on stdout:
 * first a JSON line per exception of the chain as sentry-java's SentryExceptionFactory
 * and SentryStackTraceFactory build them from the Throwable itself (type without the
 * package, the package as the module, root cause first; per frame the class as the
 * module, the method, the file name and the line, oldest call first), then, after a
 * line "--", the text printStackTrace writes, which is what OpenTelemetry records.
 */
public class Orders {
    static class GatewayException extends RuntimeException {
        GatewayException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    static int parse(String raw) {
        return Integer.parseInt(raw);
    }

    static void charge(String raw) {
        try {
            parse(raw);
        } catch (NumberFormatException e) {
            throw new GatewayException("gateway refused amount " + raw, e);
        }
    }

    static void process(String raw) {
        try {
            charge(raw);
        } catch (RuntimeException e) {
            throw new IllegalStateException("could not process order", e);
        }
    }

    static String quote(String s) {
        return s == null ? "null" : "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    public static void main(String[] args) {
        try {
            process("12x");
        } catch (IllegalStateException e) {
            List<Throwable> chain = new ArrayList<>();
            for (Throwable t = e; t != null; t = t.getCause()) {
                chain.add(0, t); // root cause first
            }
            for (Throwable t : chain) {
                Package p = t.getClass().getPackage();
                String type = t.getClass().getName();
                if (p != null) {
                    type = type.replace(p.getName() + ".", "");
                }
                StringBuilder b = new StringBuilder();
                b.append("{\"type\":").append(quote(type)).append(",\"module\":").append(quote(p == null ? null : p.getName()));
                b.append(",\"value\":").append(quote(t.getMessage())).append(",\"frames\":[");
                StackTraceElement[] st = t.getStackTrace();
                for (int i = st.length - 1; i >= 0; i--) {
                    b.append("{\"module\":").append(quote(st[i].getClassName()));
                    b.append(",\"function\":").append(quote(st[i].getMethodName()));
                    b.append(",\"filename\":").append(quote(st[i].getFileName()));
                    b.append(",\"lineno\":").append(st[i].getLineNumber()).append("}");
                    if (i > 0) {
                        b.append(",");
                    }
                }
                System.out.println(b.append("]}"));
            }
            System.out.println("--");
            e.printStackTrace(System.out);
        }
    }
}
